//! FCM HTTP v1: a service-account JWT (RS256) exchanged at the account's `token_uri` for an
//! OAuth2 access token (cached until shortly before it expires), then
//! `POST {endpoint}/v1/projects/{project}/messages:send`.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::payload::Notification;
use super::{Attempt, classify};
use crate::clock::Clock;
use crate::domain::model::Device;

#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: String,
}

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

pub struct Fcm {
    project_id: String,
    client_email: String,
    key: EncodingKey,
    token_uri: String,
    endpoint: String,
    http: reqwest::Client,
    /// The access token and when to stop using it (unix seconds).
    token: Mutex<Option<(String, i64)>>,
    clock: Clock,
}

impl Fcm {
    pub fn from_file(path: &Path, endpoint: &str, clock: Clock) -> anyhow::Result<Self> {
        let raw =
            std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let sa: ServiceAccount = serde_json::from_slice(&raw)
            .map_err(|e| anyhow::anyhow!("service account JSON: {e}"))?;
        let key = EncodingKey::from_rsa_pem(sa.private_key.as_bytes())
            .map_err(|e| anyhow::anyhow!("service account key: {e}"))?;
        Ok(Self {
            project_id: sa.project_id,
            client_email: sa.client_email,
            key,
            token_uri: sa.token_uri,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()?,
            token: Mutex::new(None),
            clock,
        })
    }

    async fn access_token(&self) -> Result<String, Attempt> {
        let now = self.clock.now_secs();
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && *until > now
        {
            return Ok(token.clone());
        }
        let claims = json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + 3600});
        let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| Attempt::Dead(format!("signing the OAuth2 assertion: {e}")))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &assertion)
            .finish();
        let resp = self
            .http
            .post(&self.token_uri)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|e| Attempt::Retry {
                after: None,
                error: format!("OAuth2 token exchange: {e}"),
            })?;
        if !resp.status().is_success() {
            return Err(Attempt::Retry {
                after: None,
                error: format!("OAuth2 token exchange answered {}", resp.status()),
            });
        }
        #[derive(Deserialize)]
        struct TokenAnswer {
            access_token: String,
            expires_in: Option<i64>,
        }
        let answer: TokenAnswer = resp.json().await.map_err(|e| Attempt::Retry {
            after: None,
            error: format!("OAuth2 answer: {e}"),
        })?;
        let until = now + answer.expires_in.unwrap_or(3600) - 60;
        *cached = Some((answer.access_token.clone(), until));
        Ok(answer.access_token)
    }

    pub async fn send(&self, device: &Device, n: &Notification) -> Attempt {
        let token = match self.access_token().await {
            Ok(t) => t,
            Err(a) => return a,
        };
        let tag = format!("conversation-{}", n.data.conversation_id);
        let body = json!({"message": {
            "token": device.token,
            "notification": {"title": n.title, "body": n.body},
            "data": {
                "type": n.data.kind, "conversation_id": n.data.conversation_id,
                "sender_id": n.data.sender_id, "badge": n.badge.to_string(),
            },
            "android": {"collapse_key": tag, "notification": {"tag": tag, "notification_count": n.badge}},
            "apns": {"headers": {"apns-collapse-id": tag}, "payload": {"aps": {"badge": n.badge, "thread-id": tag}}},
        }});
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.endpoint, self.project_id
        );
        let resp = self
            .http
            .post(url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let attempt = classify(resp).await;
        if matches!(&attempt, Attempt::Dead(e) if e.starts_with("401") || e.starts_with("403")) {
            // A revoked or expired access token: drop it and let the retry fetch a new one.
            *self.token.lock().await = None;
            return Attempt::Retry {
                after: None,
                error: "access token refused".into(),
            };
        }
        attempt
    }
}
