//! The REST half: one method per endpoint, typed answers, and the contract's errors as
//! [`Error::Api`] with status and JSON body.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::*;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status.
    #[error("HTTP {status}: {body}")]
    Api { status: StatusCode, body: Value },
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("bad URL: {0}")]
    Url(#[from] url::ParseError),
}

impl Error {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Self::Api { body, .. } => Some(body),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A raw answer: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Raw {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// A client of one Spotter server, optionally authenticated.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    token: Option<String>,
}

impl Client {
    /// `base` is the server's root, e.g. `http://127.0.0.1:8000/`.
    pub fn new(base: &str) -> Result<Self> {
        // reqwest is built without a TLS provider of its own; an app that installed one keeps it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut base = url::Url::parse(base)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Self {
            http: reqwest::Client::new(),
            base,
            token: None,
        })
    }

    /// The same server, as the holder of this access token.
    pub fn with_token(&self, access: impl Into<String>) -> Self {
        Self {
            token: Some(access.into()),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// Any request, answered raw: for tests of error paths and endpoints not wrapped here.
    pub async fn raw(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Raw> {
        let url = self.base.join(path.trim_start_matches('/'))?;
        let mut req = self.http.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Raw {
            status,
            headers,
            body,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, T)> {
        let raw = self.raw(method, path, body).await?;
        answer(raw.status, raw.body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<Tokens> {
        Ok(self
            .call(
                Method::POST,
                "api/auth/jwt/create/",
                Some(&json!({"email": email, "password": password})),
            )
            .await?
            .1)
    }

    /// Logs in and returns a client holding the access token.
    pub async fn logged_in(&self, email: &str, password: &str) -> Result<Self> {
        Ok(self.with_token(self.login(email, password).await?.access))
    }

    pub async fn refresh(&self, refresh: &str) -> Result<Tokens> {
        Ok(self
            .call(
                Method::POST,
                "api/auth/jwt/refresh/",
                Some(&json!({"refresh": refresh})),
            )
            .await?
            .1)
    }

    pub async fn me(&self) -> Result<User> {
        Ok(self.call(Method::GET, "api/auth/users/me/", None).await?.1)
    }

    pub async fn conversations(&self, page: u32) -> Result<Page<Conversation>> {
        Ok(self
            .call(
                Method::GET,
                &format!("api/messaging/conversations/?page={page}"),
                None,
            )
            .await?
            .1)
    }

    pub async fn archived_conversations(&self) -> Result<Page<Conversation>> {
        Ok(self
            .call(
                Method::GET,
                "api/messaging/conversations/?archived=true",
                None,
            )
            .await?
            .1)
    }

    /// The trainer's live conversations whose newest message is the trainee's, longest waiting
    /// first, each with `waiting_since`.
    pub async fn conversations_needing_reply(&self, page: u32) -> Result<Page<Conversation>> {
        let path = format!("api/messaging/conversations/?needs_reply=true&page={page}");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// The trainer's saved replies, by title.
    pub async fn templates(&self) -> Result<Vec<Template>> {
        Ok(self
            .call(Method::GET, "api/messaging/templates/", None)
            .await?
            .1)
    }

    pub async fn create_template(&self, title: &str, content: &str) -> Result<Template> {
        let body = json!({"title": title, "content": content});
        Ok(self
            .call(Method::POST, "api/messaging/templates/", Some(&body))
            .await?
            .1)
    }

    /// Changes the fields given (`None`: left as it is); the whole reply after.
    pub async fn update_template(
        &self,
        id: i64,
        title: Option<&str>,
        content: Option<&str>,
    ) -> Result<Template> {
        let mut body = json!({});
        if let Some(t) = title {
            body["title"] = json!(t);
        }
        if let Some(c) = content {
            body["content"] = json!(c);
        }
        let path = format!("api/messaging/templates/{id}/");
        Ok(self.call(Method::PATCH, &path, Some(&body)).await?.1)
    }

    /// Deletes a saved reply; 204.
    pub async fn delete_template(&self, id: i64) -> Result<StatusCode> {
        self.no_content(
            Method::DELETE,
            &format!("api/messaging/templates/{id}/"),
            None,
        )
        .await
    }

    /// The trainer's response-time figures over the last `days` days (7 or 30).
    pub async fn messaging_stats(&self, days: u32) -> Result<MessagingStats> {
        let path = format!("api/trainer/messaging-stats/?days={days}");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Broadcasts a text to trainees (`{first_name}` filled in), now or at `send_at` (ISO
    /// 8601); with `client_broadcast_id`, a retry answers the first broadcast.
    pub async fn broadcast(
        &self,
        content: &str,
        to: &Recipients,
        client_broadcast_id: Option<&str>,
        send_at: Option<&str>,
    ) -> Result<Broadcast> {
        let trainee_ids = match to {
            Recipients::All => json!("all"),
            Recipients::Trainees(ids) => json!(ids),
        };
        let mut body = json!({"content": content, "trainee_ids": trainee_ids});
        if let Some(id) = client_broadcast_id {
            body["client_broadcast_id"] = json!(id);
        }
        if let Some(at) = send_at {
            body["send_at"] = json!(at);
        }
        Ok(self
            .call(Method::POST, "api/messaging/broadcasts/", Some(&body))
            .await?
            .1)
    }

    /// The trainer's broadcasts, newest first.
    pub async fn broadcasts(&self, page: u32) -> Result<Page<Broadcast>> {
        let path = format!("api/messaging/broadcasts/?page={page}");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// One broadcast, with `failures`.
    pub async fn broadcast_detail(&self, id: i64) -> Result<Broadcast> {
        let path = format!("api/messaging/broadcasts/{id}/");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Cancels a scheduled broadcast.
    pub async fn cancel_broadcast(&self, id: i64) -> Result<StatusCode> {
        let path = format!("api/messaging/broadcasts/{id}/");
        self.no_content(Method::DELETE, &path, None).await
    }

    /// Schedules a message in a conversation, to be sent at `send_at` (ISO 8601).
    pub async fn schedule(
        &self,
        conversation: i64,
        content: &str,
        send_at: &str,
    ) -> Result<Scheduled> {
        let path = format!("api/messaging/conversations/{conversation}/scheduled/");
        let body = json!({"content": content, "send_at": send_at});
        Ok(self.call(Method::POST, &path, Some(&body)).await?.1)
    }

    /// The caller's pending messages in a conversation, soonest first.
    pub async fn scheduled(&self, conversation: i64) -> Result<Vec<Scheduled>> {
        let path = format!("api/messaging/conversations/{conversation}/scheduled/");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Changes a pending message's text or time (`None`: left as it is).
    pub async fn reschedule(
        &self,
        conversation: i64,
        id: i64,
        content: Option<&str>,
        send_at: Option<&str>,
    ) -> Result<Scheduled> {
        let mut body = json!({});
        if let Some(c) = content {
            body["content"] = json!(c);
        }
        if let Some(at) = send_at {
            body["send_at"] = json!(at);
        }
        let path = format!("api/messaging/conversations/{conversation}/scheduled/{id}/");
        Ok(self.call(Method::PATCH, &path, Some(&body)).await?.1)
    }

    /// Cancels a pending message.
    pub async fn unschedule(&self, conversation: i64, id: i64) -> Result<StatusCode> {
        let path = format!("api/messaging/conversations/{conversation}/scheduled/{id}/");
        self.no_content(Method::DELETE, &path, None).await
    }

    /// A call answered without a body (204): its status, or the error.
    async fn no_content(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<StatusCode> {
        let raw = self.raw(method, path, body).await?;
        if raw.status.is_success() {
            Ok(raw.status)
        } else {
            Err(Error::Api {
                status: raw.status,
                body: raw.body,
            })
        }
    }

    pub async fn messages(&self, conversation: i64, page: u32) -> Result<Page<Message>> {
        Ok(self
            .call(
                Method::GET,
                &format!("api/messaging/conversations/{conversation}/messages/?page={page}"),
                None,
            )
            .await?
            .1)
    }

    /// Messages older than `before` (or the newest), newest first.
    pub async fn messages_before(
        &self,
        conversation: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<CursorPage> {
        let before = before.map(|b| b.to_string()).unwrap_or_default();
        let path = format!(
            "api/messaging/conversations/{conversation}/messages/?before={before}&limit={limit}"
        );
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Messages newer than `after`, oldest first.
    pub async fn messages_after(
        &self,
        conversation: i64,
        after: i64,
        limit: u32,
    ) -> Result<CursorPage> {
        let path = format!(
            "api/messaging/conversations/{conversation}/messages/?after={after}&limit={limit}"
        );
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Sends; the status tells a new message (201) from an idempotent replay (200).
    pub async fn send(
        &self,
        conversation: i64,
        content: &str,
        client_message_id: Option<&str>,
    ) -> Result<(StatusCode, Message)> {
        let mut body = json!({"content": content});
        if let Some(id) = client_message_id {
            body["client_message_id"] = json!(id);
        }
        self.call(
            Method::POST,
            &format!("api/messaging/conversations/{conversation}/send/"),
            Some(&body),
        )
        .await
    }

    pub async fn start(
        &self,
        trainee_id: i64,
        content: &str,
        client_message_id: Option<&str>,
    ) -> Result<(StatusCode, Started)> {
        let mut body = json!({"trainee_id": trainee_id, "content": content});
        if let Some(id) = client_message_id {
            body["client_message_id"] = json!(id);
        }
        self.call(
            Method::POST,
            "api/messaging/conversations/start/",
            Some(&body),
        )
        .await
    }

    /// Sends a multipart form to `path` (an image part named `image`, text parts as given).
    async fn form<T: DeserializeOwned>(
        &self,
        path: &str,
        texts: &[(&str, &str)],
        image: Option<Photo<'_>>,
    ) -> Result<(StatusCode, T)> {
        let url = self.base.join(path.trim_start_matches('/'))?;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in texts {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some(p) = image {
            let part = reqwest::multipart::Part::bytes(p.bytes.to_vec())
                .file_name(p.file_name.to_owned())
                .mime_str(p.content_type)?;
            form = form.part("image", part);
        }
        let mut req = self.http.post(url).multipart(form);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        answer(
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Sends a photo (with an optional caption) as a multipart form.
    pub async fn send_photo(
        &self,
        conversation: i64,
        caption: Option<&str>,
        photo: Photo<'_>,
        client_message_id: Option<&str>,
    ) -> Result<(StatusCode, Message)> {
        let mut texts = Vec::new();
        if let Some(c) = caption {
            texts.push(("content", c));
        }
        if let Some(id) = client_message_id {
            texts.push(("client_message_id", id));
        }
        self.form(
            &format!("api/messaging/conversations/{conversation}/send/"),
            &texts,
            Some(photo),
        )
        .await
    }

    /// Starts a conversation with a photo (and an optional caption) as a multipart form.
    pub async fn start_with_photo(
        &self,
        trainee_id: i64,
        caption: Option<&str>,
        photo: Photo<'_>,
    ) -> Result<(StatusCode, Started)> {
        let trainee = trainee_id.to_string();
        let mut texts = vec![("trainee_id", trainee.as_str())];
        if let Some(c) = caption {
            texts.push(("content", c));
        }
        self.form("api/messaging/conversations/start/", &texts, Some(photo))
            .await
    }

    /// The page centred on a message, newest first: where a search result opens.
    pub async fn messages_around(
        &self,
        conversation: i64,
        around: i64,
        limit: u32,
    ) -> Result<AroundPage> {
        let path = format!(
            "api/messaging/conversations/{conversation}/messages/?around={around}&limit={limit}"
        );
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Replaces the text of one's own message (within 15 minutes of sending it).
    pub async fn edit_message(
        &self,
        conversation: i64,
        message: i64,
        content: &str,
    ) -> Result<Message> {
        Ok(self
            .call(
                Method::PATCH,
                &format!("api/messaging/conversations/{conversation}/messages/{message}/"),
                Some(&json!({"content": content})),
            )
            .await?
            .1)
    }

    /// Deletes one's own message (it stays as a tombstone); 204.
    pub async fn delete_message(&self, conversation: i64, message: i64) -> Result<StatusCode> {
        let raw = self
            .raw(
                Method::DELETE,
                &format!("api/messaging/conversations/{conversation}/messages/{message}/"),
                None,
            )
            .await?;
        if raw.status.is_success() {
            Ok(raw.status)
        } else {
            Err(Error::Api {
                status: raw.status,
                body: raw.body,
            })
        }
    }

    /// One's messages containing `q` (case-insensitive), newest first, 20 a page; optionally
    /// in one conversation only.
    pub async fn search(
        &self,
        q: &str,
        page: u32,
        conversation: Option<i64>,
    ) -> Result<SearchPage> {
        let mut url = self.base.join("api/messaging/search/")?;
        url.query_pairs_mut()
            .append_pair("q", q)
            .append_pair("page", &page.to_string());
        if let Some(c) = conversation {
            url.query_pairs_mut()
                .append_pair("conversation_id", &c.to_string());
        }
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    pub async fn notification_preferences(&self) -> Result<NotificationPreferences> {
        Ok(self
            .call(Method::GET, "api/users/notification-preferences/", None)
            .await?
            .1)
    }

    /// Changes the switches `changes` names (any subset); all of them after.
    pub async fn set_notification_preferences(
        &self,
        changes: &Value,
    ) -> Result<NotificationPreferences> {
        Ok(self
            .call(
                Method::PATCH,
                "api/users/notification-preferences/",
                Some(changes),
            )
            .await?
            .1)
    }

    pub async fn mark_read(&self, conversation: i64) -> Result<MarkedRead> {
        Ok(self
            .call(
                Method::POST,
                &format!("api/messaging/conversations/{conversation}/read/"),
                None,
            )
            .await?
            .1)
    }

    pub async fn unread_count(&self) -> Result<i64> {
        let (_, v): (_, Value) = self
            .call(Method::GET, "api/messaging/unread-count/", None)
            .await?;
        Ok(v["unread_count"].as_i64().unwrap_or_default())
    }

    pub async fn trainees(&self, search: Option<&str>) -> Result<Page<User>> {
        let path = match search {
            Some(s) => format!(
                "api/trainer/trainees/?search={}",
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
            ),
            None => "api/trainer/trainees/".to_owned(),
        };
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    pub async fn trainee(&self, id: i64) -> Result<User> {
        Ok(self
            .call(Method::GET, &format!("api/trainer/trainees/{id}/"), None)
            .await?
            .1)
    }

    pub async fn remove_trainee(&self, id: i64) -> Result<Value> {
        Ok(self
            .call(
                Method::POST,
                &format!("api/trainer/trainees/{id}/remove/"),
                None,
            )
            .await?
            .1)
    }

    pub async fn impersonate_trainee(&self, id: i64) -> Result<Impersonation> {
        Ok(self
            .call(
                Method::POST,
                &format!("api/trainer/impersonate/{id}/start/"),
                None,
            )
            .await?
            .1)
    }

    pub async fn end_trainee_impersonation(&self) -> Result<Impersonation> {
        Ok(self
            .call(Method::POST, "api/trainer/impersonate/end/", None)
            .await?
            .1)
    }

    pub async fn admin_impersonate(&self, trainer_id: i64) -> Result<Impersonation> {
        Ok(self
            .call(
                Method::POST,
                &format!("api/admin/impersonate/{trainer_id}/"),
                None,
            )
            .await?
            .1)
    }

    pub async fn end_admin_impersonation(&self) -> Result<Impersonation> {
        Ok(self
            .call(Method::POST, "api/admin/impersonate/end/", None)
            .await?
            .1)
    }

    /// A path with its query, each pair encoded (pairs with no value left out).
    fn with_query(&self, path: &str, pairs: &[(&str, Option<String>)]) -> Result<String> {
        let mut url = self.base.join(path)?;
        for (k, v) in pairs {
            if let Some(v) = v {
                url.query_pairs_mut().append_pair(k, v);
            }
        }
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Admin console: accounts by name, 50 a page; `q` on names and email.
    pub async fn admin_users(&self, q: Option<&str>, page: u32) -> Result<Page<User>> {
        let pairs = [
            ("q", q.map(str::to_owned)),
            ("page", (page > 1).then(|| page.to_string())),
        ];
        let path = self.with_query("api/admin/users/", &pairs)?;
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Admin console: every conversation (or `user`'s), archived included, newest activity
    /// first, 50 a page; `q` on either participant's name or email. Logged.
    pub async fn admin_conversations(
        &self,
        user: Option<i64>,
        q: Option<&str>,
        page: u32,
    ) -> Result<Page<AdminConversation>> {
        let pairs = [
            ("user", user.map(|u| u.to_string())),
            ("q", q.map(str::to_owned)),
            ("page", (page > 1).then(|| page.to_string())),
        ];
        let path = self.with_query("api/admin/conversations/", &pairs)?;
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Admin console: a conversation's messages, 20 a page, newest first. Logged.
    pub async fn admin_messages(&self, conversation: i64, page: u32) -> Result<Page<Message>> {
        let path = format!("api/admin/conversations/{conversation}/messages/?page={page}");
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Admin console: messages older than `before` (or the newest), newest first. Logged.
    pub async fn admin_messages_before(
        &self,
        conversation: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<CursorPage> {
        let before = before.map(|b| b.to_string()).unwrap_or_default();
        let path = format!(
            "api/admin/conversations/{conversation}/messages/?before={before}&limit={limit}"
        );
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Admin console: `user`'s messages containing `q`, as their own search finds them. Logged.
    pub async fn admin_search(
        &self,
        user: i64,
        q: &str,
        page: u32,
        conversation: Option<i64>,
    ) -> Result<SearchPage> {
        let pairs = [
            ("user", Some(user.to_string())),
            ("q", Some(q.to_owned())),
            ("page", Some(page.to_string())),
            ("conversation_id", conversation.map(|c| c.to_string())),
        ];
        let path = self.with_query("api/admin/search/", &pairs)?;
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// The audit log (admins), newest first, 50 a page.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Page<AuditEntry>> {
        let pairs = [
            ("actor", query.actor.map(|a| a.to_string())),
            ("subject", query.subject.map(|s| s.to_string())),
            ("since", query.since.clone()),
            ("until", query.until.clone()),
            ("page", (query.page > 1).then(|| query.page.to_string())),
        ];
        let path = self.with_query("api/admin/audit-log/", &pairs)?;
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    /// Who read, searched, exported or erased one's data, newest first, 50 a page.
    pub async fn access_log(&self, page: u32) -> Result<Page<AccessEntry>> {
        let path = format!("api/users/access-log/?page={}", page.max(1));
        Ok(self.call(Method::GET, &path, None).await?.1)
    }

    pub async fn register_device(&self, body: &Value) -> Result<Value> {
        Ok(self
            .call(Method::POST, "api/users/device-token/", Some(body))
            .await?
            .1)
    }

    pub async fn unregister_device(&self, body: &Value) -> Result<StatusCode> {
        let raw = self
            .raw(Method::DELETE, "api/users/device-token/", Some(body))
            .await?;
        if raw.status.is_success() {
            Ok(raw.status)
        } else {
            Err(Error::Api {
                status: raw.status,
                body: raw.body,
            })
        }
    }

    /// The caller's export (`format`: `json`, `csv`, or `None` for the server's default, JSON),
    /// as the response whose body is still arriving: read it with `chunk()` to keep memory flat,
    /// or `bytes()` for all of it. An error status is [`Error::Api`].
    pub async fn export(&self, format: Option<&str>) -> Result<reqwest::Response> {
        self.stream_get("api/messaging/export/", format).await
    }

    /// A user's export, for an admin (as [`Client::export`]).
    pub async fn admin_export(&self, user: i64, format: Option<&str>) -> Result<reqwest::Response> {
        self.stream_get(&format!("api/admin/users/{user}/export/"), format)
            .await
    }

    async fn stream_get(&self, path: &str, format: Option<&str>) -> Result<reqwest::Response> {
        let mut url = self.base.join(path)?;
        if let Some(f) = format {
            url.query_pairs_mut().append_pair("format", f);
        }
        let mut req = self.http.get(url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let bytes = resp.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Err(Error::Api { status, body })
    }
}

/// A 2xx answer's body as `T`; any other status is [`Error::Api`] with the body as sent.
fn answer<T: DeserializeOwned>(status: StatusCode, body: Value) -> Result<(StatusCode, T)> {
    if !status.is_success() {
        return Err(Error::Api { status, body });
    }
    let value = serde_json::from_value(body.clone()).map_err(|e| Error::Api {
        status,
        body: json!({"client_decode_error": e.to_string(), "body": body}),
    })?;
    Ok((status, value))
}
