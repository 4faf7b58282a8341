//! What every scenario needs first: the server (loopback URL, process id), users (provisioned
//! with `spotter user bulk` or read from its JSON), and access tokens (minted with the shared
//! secret, as the host platform would, or obtained by logging in).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use spotter_client::Client;
use tokio::sync::Semaphore;

use crate::net;

/// A user of a load run (the shape `spotter user bulk` prints).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoadUser {
    pub id: i64,
    pub email: String,
}

/// A trainer and their trainees (the shape `spotter user bulk` prints).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoadTrainer {
    pub id: i64,
    pub email: String,
    pub trainees: Vec<LoadUser>,
}

impl LoadTrainer {
    pub fn user(&self) -> LoadUser {
        LoadUser {
            id: self.id,
            email: self.email.clone(),
        }
    }
}

/// Where the users come from.
#[derive(Debug, Clone)]
pub enum UsersSource {
    /// A JSON file as printed by `spotter user bulk`.
    File(PathBuf),
    /// Run `spotter user bulk` against the server's database.
    Provision {
        spotter_bin: PathBuf,
        data_dir: Option<PathBuf>,
        database_url: Option<String>,
        /// Emails start with this (then the scenario's name).
        prefix: String,
    },
}

/// The server and how to get users and tokens for it.
#[derive(Debug, Clone)]
pub struct Setup {
    pub url: url::Url,
    pub server_pid: Option<u32>,
    /// The server's `SPOTTER_JWT_SECRET`: tokens are minted, not logged in for.
    pub jwt_secret: Option<String>,
    pub users: UsersSource,
    /// The users' password (provisioning, and logging in without a secret).
    pub password: String,
}

impl Setup {
    /// `url` must be on loopback; without `server_pid` the process listening on the URL's port
    /// is looked up in `/proc`.
    pub fn new(
        url: &str,
        server_pid: Option<u32>,
        jwt_secret: Option<String>,
        users: UsersSource,
        password: String,
    ) -> anyhow::Result<Self> {
        let url = net::loopback_url(url)?;
        let server_pid = server_pid.or_else(|| {
            let port = url.port_or_known_default()?;
            crate::procfs::find_listener(port)
        });
        Ok(Self {
            url,
            server_pid,
            jwt_secret,
            users,
            password,
        })
    }

    /// An anonymous client of the server.
    pub fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::new(self.url.as_str())?)
    }

    /// `trainers` trainers each with at least `trainees_per_trainer` trainees, for `scenario`.
    /// Provisioned users are named `<prefix>-<scenario>-trainer-<i>@load.test`, so a run finds
    /// the users of the previous run of the same scenario again.
    pub async fn trainers(
        &self,
        scenario: &str,
        trainers: u32,
        trainees_per_trainer: u32,
    ) -> anyhow::Result<Vec<LoadTrainer>> {
        let all: Vec<LoadTrainer> = match &self.users {
            UsersSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| {
                    format!("{} is not `spotter user bulk` JSON", path.display())
                })?
            }
            UsersSource::Provision {
                spotter_bin,
                data_dir,
                database_url,
                prefix,
            } => {
                let prefix = format!("{prefix}-{scenario}");
                provision(
                    spotter_bin,
                    data_dir.as_deref(),
                    database_url.as_deref(),
                    &prefix,
                    &self.password,
                    trainers,
                    trainees_per_trainer,
                )
                .await?
            }
        };
        let fit: Vec<LoadTrainer> = all
            .into_iter()
            .filter(|t| t.trainees.len() >= trainees_per_trainer as usize)
            .take(trainers as usize)
            .collect();
        if fit.len() < trainers as usize {
            bail!(
                "need {trainers} trainers with {trainees_per_trainer} trainees each, the users have {}",
                fit.len()
            );
        }
        Ok(fit)
    }

    /// An access token per user, in order: minted with the secret, else by logging in with the
    /// password (Argon2 on the server per login: slow for thousands; 429s are waited out).
    pub async fn tokens(&self, users: &[LoadUser]) -> anyhow::Result<Vec<String>> {
        if let Some(secret) = &self.jwt_secret {
            let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
            return users.iter().map(|u| mint(&key, u.id)).collect();
        }
        let client = self.client()?;
        let gate = Arc::new(Semaphore::new(8));
        let mut tasks = Vec::with_capacity(users.len());
        for u in users {
            let (client, gate, email, password) = (
                client.clone(),
                gate.clone(),
                u.email.clone(),
                self.password.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await?;
                login(&client, &email, &password).await
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await??);
        }
        Ok(out)
    }
}

/// Claims exactly as SimpleJWT (the host platform) writes an access token.
#[derive(Serialize)]
struct AccessClaims {
    token_type: &'static str,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: i64,
}

/// An HS256 access token for `user_id`, valid for an hour.
pub fn mint(key: &jsonwebtoken::EncodingKey, user_id: i64) -> anyhow::Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = AccessClaims {
        token_type: "access",
        exp: now + 3600,
        iat: now,
        jti: format!("{:032x}", rand::random::<u128>()),
        user_id,
    };
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        key,
    )?)
}

async fn login(client: &Client, email: &str, password: &str) -> anyhow::Result<String> {
    for _ in 0..20 {
        match client.login(email, password).await {
            Ok(t) => return Ok(t.access),
            Err(e) if e.status().map(|s| s.as_u16()) == Some(429) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("logging in as {email}")),
        }
    }
    bail!(
        "logging in as {email}: still throttled; start the server with SPOTTER_AUTH_RATE_PER_MINUTE raised, or pass --jwt-secret"
    )
}

/// Runs `spotter user bulk` and reads its JSON. The data folder defaults to a scratch folder
/// when only a database URL is given (the command needs one for its generated secrets).
pub async fn provision(
    spotter_bin: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    database_url: Option<&str>,
    prefix: &str,
    password: &str,
    trainers: u32,
    trainees_per_trainer: u32,
) -> anyhow::Result<Vec<LoadTrainer>> {
    if data_dir.is_none() && database_url.is_none() {
        bail!("--provision needs --data-dir (SQLite) or --database-url (PostgreSQL) of the server");
    }
    let scratch =
        std::env::temp_dir().join(format!("spotter-load-provision-{}", std::process::id()));
    let dir = data_dir.map_or_else(|| scratch.clone(), std::path::Path::to_path_buf);
    let mut cmd = tokio::process::Command::new(spotter_bin);
    cmd.arg("user")
        .arg("bulk")
        .arg("--data-dir")
        .arg(&dir)
        .args(["--trainers", &trainers.to_string()])
        .args(["--trainees-per-trainer", &trainees_per_trainer.to_string()])
        .args(["--prefix", prefix])
        .args(["--password", password])
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    if let Some(db) = database_url {
        cmd.args(["--database-url", db]);
    }
    eprintln!(
        "provisioning {trainers} trainers × {trainees_per_trainer} trainees ({prefix}) with {}",
        spotter_bin.display()
    );
    let out = tokio::time::timeout(Duration::from_secs(1800), cmd.output())
        .await
        .context("spotter user bulk took over 30 minutes")?
        .with_context(|| format!("running {}", spotter_bin.display()))?;
    if data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    if !out.status.success() {
        bail!(
            "spotter user bulk failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .context("spotter user bulk printed no JSON")?;
    Ok(serde_json::from_str(json)?)
}

/// Runs `f` over `items` with at most `concurrency` at once, keeping the order of the results.
pub async fn bounded<T, R, F, Fut>(
    items: Vec<T>,
    concurrency: usize,
    f: F,
) -> anyhow::Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<R>> + Send + 'static,
{
    let f = Arc::new(f);
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(items.len());
    for item in items {
        let (f, gate) = (f.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            f(item).await
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// Starts (or finds) the conversation of each (trainer token, trainee id), returning its id.
/// Needs the server's send limit lifted when there are many. At most 8 at once (below the
/// server's default pool of 16: a start holds one connection for its transaction and, when it
/// carries a `client_message_id`, asks the pool for a second one), and 503s are retried.
pub async fn start_conversations(
    client: &Client,
    pairs: Vec<(String, i64)>,
    concurrency: usize,
) -> anyhow::Result<Vec<i64>> {
    let client = client.clone();
    bounded(pairs, concurrency.min(8), move |(token, trainee)| {
        let c = client.with_token(token);
        async move {
            let cmid = format!("load-start-{trainee}");
            let mut attempt = 0;
            loop {
                attempt += 1;
                match c.start(trainee, "Load test: hello!", Some(&cmid)).await {
                    Ok((_, s)) => return Ok(s.conversation_id),
                    Err(e) if e.status().map(|s| s.as_u16()) == Some(429) => bail!(
                        "starting a conversation was throttled (429): start the server with SPOTTER_SEND_RATE_PER_MINUTE raised for load runs"
                    ),
                    Err(e)
                        if attempt < 6 && e.status().is_none_or(|s| s.is_server_error()) =>
                    {
                        tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
                    }
                    Err(e) => return Err(e).context("starting a conversation"),
                }
            }
        }
    })
    .await
}

/// A GET of `path` with `token`, timed from the request to the last body byte (decoding comes
/// after the clock stops); a status other than 2xx is an error.
pub async fn timed_get(
    http: &reqwest::Client,
    base: &url::Url,
    path: &str,
    token: &str,
) -> anyhow::Result<(Duration, serde_json::Value)> {
    let req = http.get(base.join(path)?).bearer_auth(token);
    let t = tokio::time::Instant::now();
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let took = t.elapsed();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    Ok((took, serde_json::from_slice(&body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_has_simplejwt_claims() {
        let key = jsonwebtoken::EncodingKey::from_secret(b"s");
        let tok = mint(&key, 42).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &tok,
            &jsonwebtoken::DecodingKey::from_secret(b"s"),
            &v,
        )
        .unwrap();
        let c = data.claims;
        assert_eq!(c["token_type"], "access");
        assert_eq!(c["user_id"], 42);
        assert_eq!(c["jti"].as_str().unwrap().len(), 32);
        assert_eq!(
            c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
            3600
        );
    }

    #[test]
    fn bulk_json_is_read() {
        let t: Vec<LoadTrainer> = serde_json::from_str(
            r#"[{"id":1,"email":"a@load.test","trainees":[{"id":2,"email":"b@load.test"}]}]"#,
        )
        .unwrap();
        assert_eq!(t[0].trainees[0].id, 2);
    }
}
