//! Searching one's messages (contract Part C): validation in the contract's order, paging that
//! never fails (a bad page is page 1, past the end is the last page), and where in each text
//! the query matched, so a client can highlight it.

use crate::domain::Actor;
use crate::domain::model::ConversationId;
use crate::error::{Error, Result};
use crate::store::{Hit, SearchQuery};

pub const RESULTS_PER_PAGE: i64 = 20;

/// A page of results.
pub struct Found {
    pub hits: Vec<Hit>,
    pub count: i64,
    pub num_pages: i64,
    pub page: i64,
}

/// The query as the client sent it: trimmed; missing or empty, then under 2 characters, then
/// an admin or an ambassador (who take part in no conversation), each refused with the contract's words.
pub fn query(actor: &Actor, q: Option<&str>) -> Result<String> {
    let text = text(q)?;
    if !actor.role().messages() {
        return Err(Error::SearchNotForAdmins);
    }
    Ok(text)
}

/// The text to find, trimmed: missing or empty, then under 2 characters, refused (also what
/// the admin console's search of a user's messages takes).
pub fn text(q: Option<&str>) -> Result<String> {
    let text = q.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(Error::SearchQueryRequired);
    }
    if text.chars().count() < 2 {
        return Err(Error::SearchQueryTooShort);
    }
    Ok(text.to_owned())
}

/// The page asked for: one that does not parse, or is 0 or less, is 1.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(1)
}

/// The store's query for `page` (clamped to the last page once the count is known).
pub fn store_query(
    actor: &Actor,
    text: String,
    conversation: Option<ConversationId>,
    page: i64,
) -> SearchQuery {
    SearchQuery {
        user: actor.id(),
        text,
        conversation,
        limit: RESULTS_PER_PAGE,
        offset: (page.saturating_sub(1)).saturating_mul(RESULTS_PER_PAGE),
    }
}

/// How many pages `count` results fill (at least 1).
pub fn num_pages(count: i64) -> i64 {
    ((count + RESULTS_PER_PAGE - 1) / RESULTS_PER_PAGE).max(1)
}

/// Where `needle` occurs in `text`, case-insensitively, as half-open ranges of characters
/// (Unicode scalar values), left to right, not overlapping.
pub fn highlights(text: &str, needle: &str) -> Vec<(usize, usize)> {
    let hay: Vec<char> = text.chars().collect();
    let pat: Vec<char> = needle.chars().collect();
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut out = Vec::new();
    if pat.is_empty() || pat.len() > hay.len() {
        return out;
    }
    let mut i = 0;
    while i + pat.len() <= hay.len() {
        if hay[i..i + pat.len()]
            .iter()
            .zip(&pat)
            .all(|(&a, &b)| same(a, b))
        {
            out.push((i, i + pat.len()));
            i += pat.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_character_ranges_found_case_insensitively() {
        assert_eq!(
            highlights("Squat, squat, SQUAT", "squat"),
            [(0, 5), (7, 12), (14, 19)]
        );
        assert_eq!(highlights("Über über", "ÜBER"), [(0, 4), (5, 9)]);
        assert_eq!(highlights("50% off", "0%"), [(1, 3)]);
        assert_eq!(highlights("aaaa", "aa"), [(0, 2), (2, 4)]);
        assert!(highlights("short", "longer text").is_empty());
    }

    #[test]
    fn a_page_that_does_not_parse_or_is_not_positive_is_the_first() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("x")), 1);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("-3")), 1);
        assert_eq!(page_number(Some("4")), 4);
        assert_eq!(num_pages(0), 1);
        assert_eq!(num_pages(20), 1);
        assert_eq!(num_pages(21), 2);
    }
}
