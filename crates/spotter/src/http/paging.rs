//! Page-number pagination in Django REST Framework's shape: `{count, next, previous, results}`
//! with absolute URLs, `?page=N`, and 404 `{"detail": "Invalid page."}` past the end.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// The requested page number (1-based), validated.
pub fn page_number(query: &HashMap<String, String>) -> Result<i64> {
    match query.get("page") {
        None => Ok(1),
        Some(p) => match p.parse::<i64>() {
            Ok(n) if (1..=i64::MAX / 1000).contains(&n) => Ok(n),
            _ => Err(invalid_page()),
        },
    }
}

/// DRF answers a bad page with 404 `{"detail": "Invalid page."}`.
pub fn invalid_page() -> Error {
    Error::InvalidPage
}

/// Builds the page, with links that keep the other query parameters.
pub fn page<T>(
    origin: &str,
    path: &str,
    query: &HashMap<String, String>,
    number: i64,
    size: i64,
    count: i64,
    results: Vec<T>,
) -> Result<Page<T>> {
    let last = ((count + size - 1) / size).max(1);
    if number > last {
        return Err(invalid_page());
    }
    let link = |n: i64| {
        let mut params: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if n > 1 {
            params.push(("page", n.to_string()));
        }
        params.sort();
        let qs = url_encode(&params);
        if qs.is_empty() {
            format!("{origin}{path}")
        } else {
            format!("{origin}{path}?{qs}")
        }
    };
    Ok(Page {
        count,
        next: (number < last).then(|| link(number + 1)),
        previous: (number > 1).then(|| link(number - 1)),
        results,
    })
}

fn url_encode(params: &[(&str, String)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}
