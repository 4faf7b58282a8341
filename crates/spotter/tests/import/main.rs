//! `spotter import original`, as an operator runs it: a database shaped like the original
//! platform's (our own DDL from its description) in a fresh PostgreSQL schema, the real
//! `spotter` binary importing it into SQLite or PostgreSQL, then Spotter's HTTP API checked
//! against what the original's rows imply; a second run after changes on both sides; a dry run.

#[path = "../common/mod.rs"]
mod helpers;

use std::path::Path;

use sqlx::{Connection, PgConnection};

use helpers::{Backend, JWT_SECRET, PgSchema, TestApp, fresh_pg_schema};

/// The original's passwords (Django `pbkdf2_sha256` at 1,000 and 2,000 iterations).
const PASS_1: &str = "original-pass-1";
const HASH_1: &str =
    "pbkdf2_sha256$1000$K3yS4lt0riginal$Ef10wyAqP5ORMtlKTfjSacrLZt+3uKUXGSrAmf25XqI=";
const PASS_2: &str = "original-pass-2";
const HASH_2: &str = "pbkdf2_sha256$2000$S4ltTw0xyz$maiqH70Rifn/hNvGN4Pov/vAh1FcQq1RyhmnNV4TVWU=";
const PHOTO: &str = "message_images/0123456789abcdef0123456789abcdef.png";
const JPEG_PHOTO: &str = "message_images/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.jpg";
/// Named by a message, absent from the media folder.
const LOST_PHOTO: &str = "message_images/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.png";

/// The original's tables (our own DDL from their description).
const DDL: &str = include_str!("../fixtures/original-schema.sql");

fn user(id: i64, email: &str, hash: &str, role: &str, parent: Option<i64>, active: bool) -> String {
    let parent = parent.map_or("NULL".to_owned(), |p| p.to_string());
    format!(
        "INSERT INTO users VALUES ({id}, '{email}', '{hash}', 'First{id}', 'Last{id}', '{role}', \
         {parent}, {active}, NULL, '2024-01-01 10:00:00+00', '2024-01-01 10:00:00.250000+00', \
         '2024-06-01 10:00:00+00', NULL, false, false, NULL, NULL);"
    )
}

fn message(
    id: i64,
    conversation: i64,
    sender: i64,
    content: &str,
    image: Option<&str>,
    read: Option<Option<&str>>,
    at: &str,
) -> String {
    let image = image.map_or("NULL".to_owned(), |i| format!("'{i}'"));
    let (is_read, read_at) = match read {
        None => ("false", "NULL".to_owned()),
        Some(None) => ("true", "NULL".to_owned()),
        Some(Some(t)) => ("true", format!("'{t}'")),
    };
    format!(
        "INSERT INTO messaging_messages VALUES ({id}, {conversation}, {sender}, '{content}', \
         {image}, {is_read}, {read_at}, NULL, false, '{at}');"
    )
}

/// The original as a team runs it: ids with gaps, mixed-case email, an inactive trainee, an
/// unusable password, an ambassador, an archived conversation, a deleted trainee's
/// conversation, messages whose ids do not follow their times, an edit, a tombstone, a photo.
fn original_rows() -> Vec<String> {
    let mut sql = vec![
        user(1, "admin@orig.io", HASH_1, "ADMIN", None, true),
        user(10, "Coach.Kim@Example.com", HASH_1, "TRAINER", None, true),
        user(11, "lee@example.com", HASH_2, "TRAINER", None, true),
        user(20, "ana@example.com", HASH_1, "TRAINEE", Some(10), true),
        user(23, "ben@example.com", HASH_1, "TRAINEE", Some(10), false),
        user(25, "cy@example.com", HASH_1, "TRAINEE", Some(11), true),
        user(30, "amb@example.com", HASH_1, "AMBASSADOR", None, true),
        user(
            31,
            "nopass@example.com",
            "!Xy3UnusableZ",
            "TRAINEE",
            Some(10),
            true,
        ),
    ];
    sql.push(
        "INSERT INTO messaging_conversations VALUES \
         (100, 10, 20, '2025-03-02 09:00:00.654321+00', false, '2025-03-01 08:00:00+00', '2025-03-02 09:00:00+00'), \
         (105, 10, 23, '2025-02-01 08:00:00+00', true, '2025-02-01 07:00:00+00', '2025-02-10 00:00:00+00'), \
         (107, 11, NULL, '2025-01-05 08:00:00+00', false, '2025-01-05 07:00:00+00', '2025-01-06 00:00:00+00');"
            .to_owned(),
    );
    sql.extend([
        message(
            1001,
            100,
            10,
            "Welcome Ana",
            None,
            Some(Some("2025-03-01 09:00:00.5+00")),
            "2025-03-01 08:00:01.000001+00",
        ),
        message(
            1003,
            100,
            20,
            "Thanks coach",
            None,
            Some(None),
            "2025-03-01 08:30:00+00",
        ),
        message(
            1002,
            100,
            10,
            "Plan attached (v2)",
            None,
            Some(Some("2025-03-01 10:00:00+00")),
            "2025-03-01 09:00:00+00",
        ),
        message(
            1004,
            100,
            20,
            "",
            Some(PHOTO),
            None,
            "2025-03-02 08:00:00+00",
        ),
        message(1006, 100, 20, "", None, None, "2025-03-02 08:30:00+00"),
        message(
            2002,
            105,
            10,
            "Form check",
            Some(JPEG_PHOTO),
            Some(None),
            "2025-02-01 08:10:00+00",
        ),
        message(
            2003,
            105,
            23,
            "Photo lost",
            Some(LOST_PHOTO),
            Some(None),
            "2025-02-01 08:20:00+00",
        ),
        message(
            1007,
            100,
            20,
            "See you Monday",
            None,
            None,
            "2025-03-02 09:00:00.654321+00",
        ),
        message(
            2001,
            105,
            10,
            "Archived chat",
            None,
            Some(None),
            "2025-02-01 08:00:00+00",
        ),
        message(
            3001,
            107,
            11,
            "Hello from Lee",
            None,
            Some(None),
            "2025-01-05 08:00:00+00",
        ),
    ]);
    sql.push(
        "UPDATE messaging_messages SET edited_at = '2025-03-01 09:05:00.000007+00' WHERE id = 1002; \
         UPDATE messaging_messages SET is_deleted = true WHERE id = 1006; \
         UPDATE users SET profile_image = 'profiles/ana.png' WHERE id = 20; \
         INSERT INTO device_tokens VALUES \
         (501, 20, 'fcm-ana', 'android', true, '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'), \
         (502, 10, 'fcm-kim', 'ios', false, '2025-01-01 00:00:00+00', '2025-01-02 00:00:00+00'); \
         INSERT INTO notification_preferences VALUES \
         (7, 20, true, true, true, true, true, true, true, true, true, false, true);"
            .to_owned(),
    );
    sql
}

/// A small real JPEG.
fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, 120, y as u8 * 4]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

/// A small real PNG.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// The original's database and media folder.
struct Original {
    url: String,
    media: tempfile::TempDir,
    _schema: PgSchema,
}

impl Original {
    async fn new() -> Self {
        let (url, schema) = fresh_pg_schema().await;
        let media = tempfile::tempdir().expect("media dir");
        let photo = media.path().join(PHOTO);
        std::fs::create_dir_all(photo.parent().expect("folder")).expect("folders");
        std::fs::write(&photo, png()).expect("photo");
        std::fs::write(media.path().join(JPEG_PHOTO), jpeg()).expect("jpeg photo");
        std::fs::create_dir_all(media.path().join("profiles")).expect("profiles");
        std::fs::write(media.path().join("profiles/ana.png"), png()).expect("profile photo");
        let original = Self {
            url,
            media,
            _schema: schema,
        };
        original.exec(DDL).await;
        for statement in original_rows() {
            original.exec(&statement).await;
        }
        original
    }

    async fn exec(&self, sql: &str) {
        let mut c = PgConnection::connect(&self.url).await.expect("original db");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Spotter's side: a data folder, and a PostgreSQL schema when that is the backend.
struct Spotter {
    backend: Backend,
    data: tempfile::TempDir,
    pg: Option<(String, PgSchema)>,
}

impl Spotter {
    async fn new(backend: Backend) -> Self {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_pg_schema().await),
        };
        let data = tempfile::tempdir().expect("data dir");
        Self { backend, data, pg }
    }

    /// Runs `spotter import original` as an operator would; its exit status and output.
    async fn import(&self, from: &str, media: Option<&Path>, extra: &[&str]) -> (bool, String) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spotter"));
        cmd.args(["import", "original", "--from", from])
            .arg("--data-dir")
            .arg(self.data.path())
            .args(["--jwt-secret", JWT_SECRET])
            .args(extra)
            .env_remove("SPOTTER_DATABASE_URL")
            .env_remove("SPOTTER_MEDIA_STORE");
        if let Some(media) = media {
            cmd.arg("--media-dir").arg(media);
        }
        if let Some((url, _)) = &self.pg {
            cmd.args(["--database-url", url]);
        }
        // A process of its own, waited for off the runtime (the server under test runs on it).
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("waited")
            .expect("spotter runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// A Spotter serving what was imported.
    async fn serve(&self) -> TestApp {
        let data = self.data.path().to_path_buf();
        let url = self.pg.as_ref().map(|(u, _)| u.clone());
        TestApp::spawn_with(self.backend, move |c| {
            c.data_dir = data;
            if let Some(url) = url {
                c.database_url = Some(url);
            }
        })
        .await
    }
}

async fn sorted_history(
    client: &spotter_client::Client,
    conversation: i64,
) -> Vec<spotter_client::Message> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let p = client
            .messages(conversation, page)
            .await
            .expect("history page");
        all.extend(p.results);
        if p.next.is_none() {
            break;
        }
        page += 1;
    }
    all.sort_by_key(|m| m.seq);
    all
}

async fn adoption(backend: Backend) {
    let original = Original::new().await;
    let spotter = Spotter::new(backend).await;
    let (ok, out) = spotter
        .import(&original.url, Some(original.media.path()), &[])
        .await;
    assert!(ok, "import failed: {out}");
    assert!(out.contains("Import finished."), "{out}");
    assert!(
        out.contains("images: 3 copied, 1 missing, 0 not valid"),
        "two photos and a profile photo copied, the lost one counted: {out}"
    );
    let app = spotter.serve().await;
    let anon = &app.anon;

    // Logins: the original's passwords, the email as stored and in any case.
    let kim = anon
        .logged_in("Coach.Kim@Example.com", PASS_1)
        .await
        .expect("the trainer logs in with the original's password");
    anon.login("coach.kim@example.com", PASS_1)
        .await
        .expect("in any case");
    let ana = anon
        .logged_in("ana@example.com", PASS_1)
        .await
        .expect("ana");
    assert!(
        anon.login("ana@example.com", PASS_2).await.is_err(),
        "wrong password"
    );
    assert!(
        anon.login("ben@example.com", PASS_1).await.is_err(),
        "inactive"
    );
    assert!(
        anon.login("nopass@example.com", "!Xy3UnusableZ")
            .await
            .is_err(),
        "unusable"
    );
    let amb = anon
        .logged_in("amb@example.com", PASS_1)
        .await
        .expect("ambassador");
    assert_eq!(helpers::status_of(amb.search("hello", 1, None).await), 400);
    let none = amb.conversations(1).await.expect("an ambassador's list");
    assert_eq!(none.count, 0, "ambassadors take no part in messaging");
    assert_eq!(amb.me().await.expect("me").role, "ambassador");
    assert_eq!(kim.me().await.expect("me").id, 10, "ids are kept");

    // The trainer's list: ids, unread counts, preview and time from the original.
    let list = kim.conversations(1).await.expect("list");
    let c100 = list
        .results
        .iter()
        .find(|c| c.id == 100)
        .expect("conversation 100");
    assert_eq!(c100.unread_count, 3, "1004, 1006 (deleted) and 1007 unread");
    assert_eq!(c100.last_message_preview.as_deref(), Some("See you Monday"));
    assert!(
        c100.last_message_at
            .as_deref()
            .is_some_and(|t| t.contains("09:00:00.654321")),
        "{:?}",
        c100.last_message_at
    );
    assert!(
        list.results.iter().all(|c| c.id != 105),
        "archived is not listed"
    );
    // The "needs reply" inbox is recounted too: Ana has waited since her photo (1004), the
    // first of her messages after Kim's last (1002); the deleted 1006 counts as a message.
    let waiting = kim
        .conversations_needing_reply(1)
        .await
        .expect("needs reply");
    let waiting: Vec<(i64, Option<&str>)> = waiting
        .results
        .iter()
        .map(|c| (c.id, c.waiting_since.as_deref()))
        .collect();
    assert_eq!(waiting, [(100, Some("2025-03-02T08:00:00.000000Z"))]);
    let avatar = c100.trainee.as_ref().and_then(|t| t.profile_image.clone());
    let avatar = reqwest::get(avatar.expect("ana's profile photo came along"))
        .await
        .expect("avatar");
    assert_eq!(avatar.status(), 200);
    assert_eq!(
        &avatar.bytes().await.expect("bytes")[..2],
        b"\xff\xd8",
        "a JPEG thumbnail"
    );
    let archived_history = sorted_history(&kim, 105).await;
    let ids: Vec<i64> = archived_history.iter().map(|m| m.id).collect();
    assert_eq!(ids, [2001, 2002, 2003]);
    let jpeg_url = archived_history[1]
        .image
        .clone()
        .expect("the JPEG came along");
    let jpeg = reqwest::get(&jpeg_url).await.expect("jpeg");
    assert_eq!(jpeg.status(), 200);
    assert_eq!(&jpeg.bytes().await.expect("bytes")[..2], b"\xff\xd8");
    assert!(
        archived_history[1].thumbnail.is_some(),
        "with its thumbnail"
    );
    assert_eq!(archived_history[2].content, "Photo lost");
    assert!(
        archived_history[2].image.is_none(),
        "a missing file: the message without its image"
    );
    let archived = kim.archived_conversations().await.expect("archived");
    assert_eq!(
        archived.results.iter().map(|c| c.id).collect::<Vec<_>>(),
        [105]
    );
    let lee = anon
        .logged_in("lee@example.com", PASS_2)
        .await
        .expect("lee");
    let lees = lee.conversations(1).await.expect("lee's list");
    assert_eq!(lees.results.len(), 1);
    assert!(
        lees.results[0].trainee.is_none(),
        "the deleted trainee stays deleted"
    );

    // History in the original's order (created_at, then id), edits and tombstones as there.
    let history = sorted_history(&kim, 100).await;
    let ids: Vec<i64> = history.iter().map(|m| m.id).collect();
    assert_eq!(ids, [1001, 1003, 1002, 1004, 1006, 1007]);
    assert_eq!(
        history.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert!(history[0].is_read);
    assert!(
        history[0]
            .read_at
            .as_deref()
            .is_some_and(|t| t.contains("09:00:00.5"))
    );
    assert!(history[1].is_read, "read without a time: read");
    assert_eq!(history[2].content, "Plan attached (v2)");
    assert!(
        history[2]
            .edited_at
            .as_deref()
            .is_some_and(|t| t.contains("09:05:00.000007"))
    );
    assert!(history[4].is_deleted && history[4].content.is_empty());
    assert!(!history[5].is_read);
    let photo_url = history[3].image.clone().expect("the photo came along");
    let photo = reqwest::get(&photo_url).await.expect("photo");
    assert_eq!(photo.status(), 200);
    let bytes = photo.bytes().await.expect("bytes");
    assert_eq!(&bytes[..4], b"\x89PNG");
    assert_eq!(ana.unread_count().await.expect("ana's unread"), 0);

    // Devices and switches.
    assert_eq!(
        app.sql(
            "SELECT id, token, CASE WHEN deactivated_at IS NULL THEN 'on' ELSE 'off' END \
             FROM devices ORDER BY id"
        )
        .await,
        [["501", "fcm-ana", "on"], ["502", "fcm-kim", "off"]]
    );
    let prefs = ana.notification_preferences().await.expect("prefs");
    assert!(!prefs.new_message && prefs.trainee_workout);

    // Spotter's own rows start above the original's ids plus the margin.
    assert!(app.admin.id > 1_000_031, "new user id {}", app.admin.id);

    // Meanwhile: Spotter's own message and read marks; on the original, changes.
    let (_, mine) = kim.send(100, "From Spotter", None).await.expect("send");
    assert!(mine.id > 1_003_001, "message id {}", mine.id);
    kim.mark_read(100).await.expect("read");
    original
        .exec(&format!(
            "{} UPDATE messaging_messages SET content = 'Welcome Ana!', \
             edited_at = '2025-03-03 09:00:00+00' WHERE id = 1001; \
             UPDATE messaging_messages SET is_deleted = true, content = '', image = NULL WHERE id = 1004; \
             UPDATE messaging_conversations SET last_message_at = '2025-03-03 10:00:00+00' WHERE id = 100; \
             UPDATE users SET parent_trainer_id = 10, updated_at = now() WHERE id = 25; \
             {} UPDATE device_tokens SET is_active = true WHERE id = 502;",
            message(1010, 100, 20, "New on the original", None, None, "2025-03-03 10:00:00+00"),
            user(40, "new@example.com", HASH_2, "TRAINEE", Some(10), true),
        ))
        .await;
    let (ok, out) = spotter
        .import(&original.url, Some(original.media.path()), &[])
        .await;
    assert!(ok, "second import failed: {out}");

    let history = sorted_history(&kim, 100).await;
    let ids: Vec<i64> = history.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        [1001, 1003, 1002, 1004, 1006, 1007, mine.id, 1010],
        "no duplicate"
    );
    assert_eq!(history[0].content, "Welcome Ana!");
    assert!(history[3].is_deleted && history[3].image.is_none());
    assert!(history[5].is_read, "Spotter's read mark survives");
    assert_eq!(
        reqwest::get(&photo_url).await.expect("photo").status(),
        404,
        "a photo deleted on the original stops being served"
    );
    anon.login("new@example.com", PASS_2)
        .await
        .expect("a new user logs in");
    assert_eq!(
        app.column("SELECT parent_trainer_id FROM users WHERE id = 25")
            .await,
        ["10"]
    );
    assert_eq!(
        app.column("SELECT COUNT(*) FROM devices WHERE id = 502 AND deactivated_at IS NULL")
            .await,
        ["1"]
    );
    let c100 = kim.conversations(1).await.expect("list");
    let c100 = c100.results.iter().find(|c| c.id == 100).expect("100");
    assert_eq!(
        c100.last_message_preview.as_deref(),
        Some("New on the original")
    );
    assert_eq!(
        c100.unread_count, 1,
        "only the new message is unread for the trainer"
    );

    // A dry run reports and writes nothing.
    original
        .exec(&message(
            1011,
            100,
            20,
            "Not yet",
            None,
            None,
            "2025-03-04 10:00:00+00",
        ))
        .await;
    let runs = app.column("SELECT COUNT(*) FROM import_runs").await;
    let (ok, out) = spotter
        .import(&original.url, Some(original.media.path()), &["--dry-run"])
        .await;
    assert!(ok, "dry run failed: {out}");
    assert!(out.contains("Dry run"), "{out}");
    assert_eq!(app.column("SELECT COUNT(*) FROM import_runs").await, runs);
    assert_eq!(
        app.column("SELECT COUNT(*) FROM messages WHERE id = 1011")
            .await,
        ["0"]
    );
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_into_sqlite() {
    adoption(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_into_postgres() {
    adoption(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_original_is_a_clear_failure() {
    let spotter = Spotter::new(Backend::Sqlite).await;
    let (ok, out) = spotter
        .import("postgres://postgres@127.0.0.1:1/none", None, &[])
        .await;
    assert!(!ok, "{out}");
    assert!(out.contains("original's database"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_into_a_fresh_folder_creates_nothing() {
    let original = Original::new().await;
    let spotter = Spotter::new(Backend::Sqlite).await;
    let (ok, out) = spotter
        .import(&original.url, Some(original.media.path()), &["--dry-run"])
        .await;
    assert!(ok, "{out}");
    assert!(out.contains("Dry run"), "{out}");
    assert!(
        std::fs::read_dir(spotter.data.path())
            .expect("folder")
            .next()
            .is_none(),
        "nothing written: {out}"
    );
}
