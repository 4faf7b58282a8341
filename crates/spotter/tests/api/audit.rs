//! The audit log (Part D 6): every impersonation start and end is one entry, chained by hash;
//! no interface changes an entry, and an entry changed behind Spotter's back breaks the chain
//! where it was changed.

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    each_impersonation_start_and_end_is_one_chained_entry,
    an_entry_changed_behind_spotters_back_breaks_the_chain_there,
);

const ENTRIES: &str = "SELECT id, actor_id, action, subject_user_id, ip FROM audit_log ORDER BY id";

async fn each_impersonation_start_and_end_is_one_chained_entry(app: TestApp) {
    let imp = app
        .trainer
        .client
        .impersonate_trainee(app.trainee.id)
        .await
        .unwrap();
    let as_trainee = app.anon.with_token(imp.access);
    as_trainee.end_trainee_impersonation().await.unwrap();
    let admin = app
        .admin
        .client
        .admin_impersonate(app.trainer.id)
        .await
        .unwrap();
    // A refused start (not the trainer's trainee) writes nothing.
    assert!(
        app.trainer
            .client
            .impersonate_trainee(app.other_trainee.id)
            .await
            .is_err()
    );
    app.anon
        .with_token(admin.access)
        .end_admin_impersonation()
        .await
        .unwrap();
    let (t, e, a, tr) = (app.trainer.id, app.trainee.id, app.admin.id, app.trainer.id);
    let row = |id: i64, actor: i64, action: &str, subject: i64| {
        [
            id.to_string(),
            actor.to_string(),
            action.to_owned(),
            subject.to_string(),
            "127.0.0.1".to_owned(),
        ]
        .to_vec()
    };
    assert_eq!(
        app.sql(ENTRIES).await,
        [
            row(1, t, "impersonation.start", e),
            row(2, t, "impersonation.end", e),
            row(3, a, "impersonation.start", tr),
            row(4, a, "impersonation.end", tr),
        ]
    );
    let verified = app.state.audit.verify().await.unwrap();
    assert_eq!((verified.entries, verified.broken), (4, None));
    // Append-only: the database itself refuses a change or a removal.
    for change in [
        "UPDATE audit_log SET ip = '10.0.0.1'",
        "DELETE FROM audit_log WHERE id = 4",
    ] {
        assert!(try_sql(&app, change).await.is_err(), "{change} was allowed");
    }
    assert_eq!(app.sql(ENTRIES).await.len(), 4);
}

async fn an_entry_changed_behind_spotters_back_breaks_the_chain_there(app: TestApp) {
    for _ in 0..3 {
        let imp = app
            .trainer
            .client
            .impersonate_trainee(app.trainee.id)
            .await
            .unwrap();
        app.anon
            .with_token(imp.access)
            .end_trainee_impersonation()
            .await
            .unwrap();
    }
    assert_eq!(app.state.audit.verify().await.unwrap().broken, None);
    // Someone with the database's keys drops the guard and rewrites who did it.
    let pg = app.config.database_url.is_some();
    let unguard: &[&str] = if pg {
        &["ALTER TABLE audit_log DISABLE TRIGGER USER"]
    } else {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ]
    };
    for q in unguard {
        app.sql(q).await;
    }
    app.sql(&format!(
        "UPDATE audit_log SET actor_id = {} WHERE id = 4",
        app.admin.id
    ))
    .await;
    let v = app.state.audit.verify().await.unwrap();
    assert_eq!(v.entries, 3);
    assert_eq!(v.broken.map(|b| b.0), Some(4));
    // Removing an entry is found too (at the one after the gap).
    app.sql("UPDATE audit_log SET actor_id = (SELECT actor_id FROM audit_log WHERE id = 3) WHERE id = 4")
        .await;
    app.sql("DELETE FROM audit_log WHERE id = 2").await;
    let v = app.state.audit.verify().await.unwrap();
    assert_eq!((v.entries, v.broken.map(|b| b.0)), (1, Some(3)));
}

/// Runs a statement that may be refused: whether the database took it.
async fn try_sql(app: &TestApp, q: &str) -> Result<(), String> {
    match app.config.database_url.as_deref() {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_owned()))
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        None => {
            let db = rusqlite::Connection::open(app.config.data_dir.join("spotter.db"))
                .map_err(|e| e.to_string())?;
            db.execute_batch(q).map_err(|e| e.to_string())
        }
    }
}

both_backends!(
    erasing_a_trainee_leaves_the_conversation_to_the_trainer_with_them_removed,
    erasing_a_trainer_empties_the_account_and_keeps_the_trainees_history,
);

/// Runs `spotter user erase` on the test's database, as an operator would.
fn erase(app: &TestApp, email: &str, by: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spotter"));
    cmd.args(["user", "erase", "--email", email])
        .env("SPOTTER_DATA_DIR", &app.config.data_dir)
        .env("SPOTTER_JWT_SECRET", crate::helpers::JWT_SECRET)
        .env_remove("SPOTTER_DATABASE_URL");
    if let Some(url) = &app.config.database_url {
        cmd.env("SPOTTER_DATABASE_URL", url);
    }
    if let Some(by) = by {
        cmd.args(["--by-email", by]);
    }
    cmd.output().expect("spotter user erase")
}

async fn erasing_a_trainee_leaves_the_conversation_to_the_trainer_with_them_removed(app: TestApp) {
    let conversation = app.conversation().await;
    app.trainee
        .client
        .send(conversation, "my knee hurts", None)
        .await
        .unwrap();
    let out = erase(&app, &app.trainee.email, Some(&app.admin.email));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The trainee is gone: no login, no token.
    assert!(
        app.anon
            .logged_in(&app.trainee.email, crate::helpers::PASSWORD)
            .await
            .is_err()
    );
    assert!(app.trainee.client.me().await.is_err());
    // The trainer keeps the conversation, the trainee shown as removed.
    let list = app.trainer.client.conversations(1).await.unwrap();
    assert_eq!(list.results.len(), 1);
    assert!(list.results[0].trainee.is_none());
    let page = app.trainer.client.messages(conversation, 1).await.unwrap();
    let texts: Vec<(&str, bool)> = page
        .results
        .iter()
        .rev()
        .map(|m| (m.content.as_str(), m.sender.is_some()))
        .collect();
    assert_eq!(texts, [("Welcome!", true), ("my knee hurts", false)]);
    // Recorded: who erased whose data.
    assert_eq!(
        app.sql("SELECT actor_id, action, subject_user_id FROM audit_log")
            .await,
        [[
            app.admin.id.to_string(),
            "erase".to_owned(),
            app.trainee.id.to_string()
        ]]
    );
    assert_eq!(app.state.audit.verify().await.unwrap().broken, None);
    // An unknown email: non-zero, nothing recorded.
    let out = erase(&app, "nobody@test.io", None);
    assert!(!out.status.success());
    assert_eq!(app.sql("SELECT id FROM audit_log").await.len(), 1);
}

async fn erasing_a_trainer_empties_the_account_and_keeps_the_trainees_history(app: TestApp) {
    let conversation = app.conversation().await;
    app.trainer
        .client
        .create_template("Check-in", "How was the week?")
        .await
        .unwrap();
    let out = erase(&app, &app.trainer.email, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app.trainer.client.me().await.is_err(), "deactivated");
    let row = app
        .sql(&format!(
            "SELECT email, first_name, last_name, password_hash FROM users WHERE id = {}",
            app.trainer.id
        ))
        .await;
    assert_eq!(
        row,
        [[
            format!("erased-{}@erased.invalid", app.trainer.id),
            String::new(),
            String::new(),
            "!".to_owned()
        ]]
    );
    assert!(app.sql("SELECT id FROM message_templates").await.is_empty());
    // The trainee keeps their history.
    let page = app.trainee.client.messages(conversation, 1).await.unwrap();
    assert_eq!(page.results[0].content, "Welcome!");
    assert_eq!(
        app.sql("SELECT actor_id, action, subject_user_id FROM audit_log")
            .await,
        [[
            "0".to_owned(),
            "erase".to_owned(),
            app.trainer.id.to_string()
        ]]
    );
}
