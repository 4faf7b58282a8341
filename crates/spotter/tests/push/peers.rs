//! Real protocol peers on loopback: an HTTP server that plays FCM (OAuth2 token exchange and
//! the v1 send API) and a Web Push receiver that checks VAPID and decrypts every payload with
//! the subscription's private key.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

/// A scripted answer: status, optional Retry-After; or no answer at all (`hold`), as a push
/// service that hangs until the caller goes away.
#[derive(Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub hold: bool,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            hold: false,
        }
    }
}

#[derive(Default)]
pub struct Log {
    /// What arrived and was answered with success.
    pub delivered: Vec<Value>,
    /// Every request, answered or not.
    pub requests: usize,
    /// Held requests whose caller went away before an answer.
    pub abandoned: usize,
    pub token_exchanges: usize,
    /// Problems the peer saw in what the server sent (must stay empty).
    pub violations: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Peer {
    pub log: Arc<Mutex<Log>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Peer {
    /// Answers the next requests with these, then 2xx.
    pub fn script(&self, replies: &[Reply]) {
        self.script.lock().unwrap().extend(replies.iter().copied());
    }

    fn next_reply(&self, ok: u16) -> Reply {
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::status(ok))
    }

    pub fn delivered(&self) -> Vec<Value> {
        self.log.lock().unwrap().delivered.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.log.lock().unwrap().violations.clone()
    }

    /// Waits until `n` deliveries arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let what = format!("{n} deliveries");
        crate::helpers::eventually(&what, || async {
            let got = self.delivered();
            (got.len() >= n).then_some(got)
        })
        .await
    }

    /// Waits until `n` requests arrived (answered or not).
    pub async fn wait_for_requests(&self, n: usize) {
        let what = format!("{n} requests");
        crate::helpers::eventually(&what, || async {
            (self.log.lock().unwrap().requests >= n).then_some(())
        })
        .await;
    }
}

/// Counts a held request as abandoned when its handler is dropped (its connection closed).
struct Held(Arc<Mutex<Log>>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.lock().unwrap().abandoned += 1;
    }
}

async fn answer(peer: &Peer, reply: Reply, record: Value) -> Response {
    if reply.hold {
        let _held = Held(peer.log.clone());
        std::future::pending::<()>().await;
    }
    if (200..300).contains(&reply.status) {
        peer.log.lock().unwrap().delivered.push(record);
    }
    let mut headers = HeaderMap::new();
    if let Some(s) = reply.retry_after {
        headers.insert("retry-after", s.into());
    }
    (StatusCode::from_u16(reply.status).unwrap(), headers, "{}").into_response()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

// ---- FCM --------------------------------------------------------------------------------------

pub const FCM_TOKEN: &str = "ya29.fake-access-token";

pub struct FakeFcm {
    pub peer: Peer,
    pub url: String,
}

impl FakeFcm {
    pub async fn start() -> Self {
        let peer = Peer::default();
        let router = Router::new()
            .route("/token", post(fcm_token))
            .route("/v1/projects/{project}/{send}", post(fcm_send))
            .with_state(peer.clone());
        Self {
            url: serve(router).await,
            peer,
        }
    }

    /// A service-account JSON pointing at this fake; returns its path.
    pub fn service_account(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let sa = json!({
            "type": "service_account",
            "project_id": "spotter-test",
            "private_key_id": "test",
            "private_key": include_str!("../fixtures/fcm-test-key.pem"),
            "client_email": "push@spotter-test.iam.gserviceaccount.com",
            "token_uri": format!("{}/token", self.url),
        });
        let path = dir.join("service-account.json");
        std::fs::write(&path, sa.to_string()).unwrap();
        path
    }
}

async fn fcm_token(State(peer): State<Peer>, body: String) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
    let mut problems = Vec::new();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        problems.push(format!("grant_type: {:?}", form.get("grant_type")));
    }
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!("../fixtures/fcm-test-key.pub.pem"))
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[format!("http://{}/token", "placeholder")]);
    v.validate_aud = false;
    match jsonwebtoken::decode::<Value>(
        form.get("assertion").map(String::as_str).unwrap_or(""),
        &key,
        &v,
    ) {
        Ok(t) => {
            let c = t.claims;
            if c["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
                problems.push(format!("scope {}", c["scope"]));
            }
            if c["iss"] != "push@spotter-test.iam.gserviceaccount.com"
                || !c["aud"].as_str().unwrap_or("").ends_with("/token")
            {
                problems.push(format!("iss/aud {c}"));
            }
        }
        Err(e) => problems.push(format!("assertion: {e}")),
    }
    let mut log = peer.log.lock().unwrap();
    log.token_exchanges += 1;
    if !problems.is_empty() {
        log.violations.extend(problems);
        return (StatusCode::BAD_REQUEST, "{}").into_response();
    }
    axum::Json(json!({"access_token": FCM_TOKEN, "expires_in": 3600, "token_type": "Bearer"}))
        .into_response()
}

async fn fcm_send(
    State(peer): State<Peer>,
    Path((project, send)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    peer.log.lock().unwrap().requests += 1;
    let mut problems = Vec::new();
    if project != "spotter-test" || send != "messages:send" {
        problems.push(format!("path {project}/{send}"));
    }
    if headers.get("authorization").and_then(|h| h.to_str().ok())
        != Some(&format!("Bearer {FCM_TOKEN}"))
    {
        problems.push("authorization".into());
    }
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let m = &v["message"];
    if !m["token"].is_string()
        || !m["notification"]["title"].is_string()
        || !m["notification"]["body"].is_string()
    {
        problems.push(format!("message shape {v}"));
    }
    for k in ["type", "conversation_id", "sender_id"] {
        if !m["data"][k].is_string() {
            problems.push(format!("data.{k} must be a string: {v}"));
        }
    }
    if !problems.is_empty() {
        peer.log.lock().unwrap().violations.extend(problems);
        return (StatusCode::BAD_REQUEST, "{}").into_response();
    }
    let reply = peer.next_reply(200);
    answer(&peer, reply, m.clone()).await
}

// ---- Web Push ---------------------------------------------------------------------------------

/// A browser's push subscription: the keys the server encrypts to, and the endpoint.
pub struct Subscription {
    pub endpoint: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Subscription {
    /// The body the browser would POST to `/api/users/device-token/`.
    pub fn register_body(&self) -> Value {
        let public = self.secret.public_key().as_affine().to_encoded_point(false);
        json!({"platform": "webpush", "subscription": {
            "endpoint": self.endpoint, "expirationTime": null,
            "keys": {"p256dh": B64.encode(public.as_bytes()), "auth": B64.encode(self.auth)},
        }})
    }
}

/// Subscriptions by endpoint id: the browser-side secret key and auth secret.
type Subscriptions = Arc<Mutex<Vec<(String, p256::SecretKey, [u8; 16])>>>;

#[derive(Clone)]
struct PushState {
    peer: Peer,
    subs: Subscriptions,
    origin: Arc<Mutex<String>>,
    subject: String,
}

pub struct PushService {
    pub peer: Peer,
    pub url: String,
    state: PushState,
}

impl PushService {
    pub async fn start(subject: &str) -> Self {
        let peer = Peer::default();
        let state = PushState {
            peer: peer.clone(),
            subs: Arc::default(),
            origin: Arc::default(),
            subject: subject.to_owned(),
        };
        let router = Router::new()
            .route("/push/{id}", post(push_receive))
            .with_state(state.clone());
        let url = serve(router).await;
        *state.origin.lock().unwrap() = url.clone();
        Self { peer, url, state }
    }

    /// A new subscription on this service (what `PushManager.subscribe` makes).
    pub fn subscribe(&self) -> Subscription {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let auth: [u8; 16] = rand::random();
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.state
            .subs
            .lock()
            .unwrap()
            .push((id.clone(), secret.clone(), auth));
        Subscription {
            endpoint: format!("{}/push/{id}", self.url),
            secret,
            auth,
        }
    }
}

fn check_vapid(headers: &HeaderMap, origin: &str, subject: &str) -> Result<(), String> {
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .ok_or("no Authorization")?;
    let rest = auth.strip_prefix("vapid ").ok_or("not vapid")?;
    let mut t = None;
    let mut k = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (t, k) = (t.ok_or("no t=")?, k.ok_or("no k=")?);
    let key =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&B64.decode(k).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let (signing_input, sig) = t.rsplit_once('.').ok_or("malformed JWT")?;
    let sig = p256::ecdsa::Signature::from_slice(&B64.decode(sig).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    key.verify(signing_input.as_bytes(), &sig)
        .map_err(|_| "bad VAPID signature")?;
    let (header, claims) = signing_input.split_once('.').ok_or("malformed JWT")?;
    let header: Value = serde_json::from_slice(&B64.decode(header).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&B64.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {}", header["alg"]));
    }
    if claims["aud"] != origin {
        return Err(format!("aud {} != {origin}", claims["aud"]));
    }
    if claims["sub"] != subject {
        return Err(format!("sub {}", claims["sub"]));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} not within 24 h"));
    }
    if headers
        .get("content-encoding")
        .and_then(|h| h.to_str().ok())
        != Some("aes128gcm")
    {
        return Err("Content-Encoding must be aes128gcm".into());
    }
    if headers.get("ttl").is_none() {
        return Err("no TTL".into());
    }
    Ok(())
}

async fn push_receive(
    State(s): State<PushState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.peer.log.lock().unwrap().requests += 1;
    let origin = s.origin.lock().unwrap().clone();
    if let Err(e) = check_vapid(&headers, &origin, &s.subject) {
        s.peer.log.lock().unwrap().violations.push(e);
        return (StatusCode::UNAUTHORIZED, "{}").into_response();
    }
    let sub = s
        .subs
        .lock()
        .unwrap()
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, k, a)| (k.clone(), *a));
    let Some((secret, auth)) = sub else {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    };
    let mut auth_key = web_push_native::Auth::default();
    auth_key.copy_from_slice(&auth);
    let payload = match web_push_native::decrypt(body.to_vec(), &secret, &auth_key) {
        Ok(p) => p,
        Err(e) => {
            s.peer
                .log
                .lock()
                .unwrap()
                .violations
                .push(format!("decrypt: {e:?}"));
            return (StatusCode::BAD_REQUEST, "{}").into_response();
        }
    };
    let json: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    let reply = s.peer.next_reply(201);
    answer(&s.peer, reply, json).await
}
