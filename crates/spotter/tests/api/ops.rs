//! Operations endpoints and the OpenAPI document.

use reqwest::{Method, StatusCode};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    health_and_readiness_answer,
    openapi_lists_every_operation_with_its_statuses,
    openapi_names_each_operation_once
);

/// Generated clients name their calls by operationId: two alike would collide.
async fn openapi_names_each_operation_once(app: TestApp) {
    let doc = app
        .anon
        .raw(Method::GET, "api/openapi.json", None)
        .await
        .unwrap()
        .body;
    let mut seen = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no id"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} names both {other} and {method} {path}");
            }
        }
    }
    assert!(seen.len() > 40, "{}", seen.len());
}

async fn health_and_readiness_answer(app: TestApp) {
    assert_eq!(
        app.anon
            .raw(Method::GET, "healthz", None)
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
    let ready = app.anon.raw(Method::GET, "readyz", None).await.unwrap();
    assert_eq!(
        (ready.status, ready.body["database"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
}

async fn openapi_lists_every_operation_with_its_statuses(app: TestApp) {
    let doc = app
        .anon
        .raw(Method::GET, "api/openapi.json", None)
        .await
        .unwrap()
        .body;
    let paths = doc["paths"].as_object().unwrap();
    let expect = [
        ("/api/messaging/conversations/", "get", &["200", "401"][..]),
        (
            "/api/messaging/conversations/{id}/messages/",
            "get",
            &["200", "401", "403", "404"],
        ),
        (
            "/api/messaging/conversations/{id}/send/",
            "post",
            &["201", "200", "400", "401", "403", "404", "413", "429"],
        ),
        (
            "/api/messaging/conversations/start/",
            "post",
            &["201", "400", "401", "403", "413", "429"],
        ),
        (
            "/api/messaging/conversations/{id}/read/",
            "post",
            &["200", "401", "403", "404"],
        ),
        ("/api/messaging/unread-count/", "get", &["200", "401"]),
        (
            "/api/auth/jwt/create/",
            "post",
            &["200", "400", "401", "413", "429"],
        ),
        ("/api/auth/jwt/refresh/", "post", &["200", "401"]),
        ("/api/auth/users/me/", "get", &["200", "401"]),
        ("/api/trainer/trainees/", "get", &["200", "401", "403"]),
        ("/api/trainer/trainees/{id}/", "get", &["200", "404"]),
        (
            "/api/trainer/trainees/{id}/remove/",
            "post",
            &["200", "404"],
        ),
        (
            "/api/trainer/impersonate/{id}/start/",
            "post",
            &["200", "404"],
        ),
        ("/api/trainer/impersonate/end/", "post", &["200", "403"]),
        ("/api/admin/impersonate/{id}/", "post", &["200", "404"]),
        ("/api/admin/impersonate/end/", "post", &["200", "403"]),
        ("/api/users/device-token/", "post", &["201", "400"]),
        ("/api/users/device-token/", "delete", &["204", "400"]),
        (
            "/api/messaging/conversations/",
            "get",
            &["200", "401", "403"],
        ),
        ("/api/messaging/templates/", "get", &["200", "401", "403"]),
        (
            "/api/messaging/templates/",
            "post",
            &["201", "400", "401", "403", "413"],
        ),
        (
            "/api/messaging/templates/{id}/",
            "patch",
            &["200", "400", "401", "403", "404", "413"],
        ),
        (
            "/api/messaging/templates/{id}/",
            "delete",
            &["204", "401", "403", "404"],
        ),
        (
            "/api/trainer/messaging-stats/",
            "get",
            &["200", "400", "401", "403"],
        ),
        ("/api/admin/users/", "get", &["200", "401", "403", "404"]),
        (
            "/api/admin/conversations/",
            "get",
            &["200", "400", "401", "403", "404"],
        ),
        (
            "/api/admin/conversations/{id}/messages/",
            "get",
            &["200", "400", "401", "403", "404", "500", "503"],
        ),
        (
            "/api/admin/search/",
            "get",
            &["200", "400", "401", "403", "404"],
        ),
        (
            "/api/admin/audit-log/",
            "get",
            &["200", "400", "401", "403", "404"],
        ),
        ("/api/users/access-log/", "get", &["200", "401", "403"]),
        (
            "/api/messaging/export/",
            "get",
            &["200", "400", "401", "403", "429"],
        ),
        (
            "/api/admin/users/{id}/export/",
            "get",
            &["200", "400", "401", "403", "404", "429"],
        ),
    ];
    for (path, method, statuses) in expect {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        for s in statuses {
            let resp = &op["responses"][*s];
            assert!(resp.is_object(), "{method} {path} lacks {s}");
            if *s != "204" {
                assert!(
                    resp["content"]["application/json"]["schema"].is_object(),
                    "{method} {path} {s} has no body schema"
                );
            }
        }
    }
}
