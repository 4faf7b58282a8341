//! Demo data for `spotter serve --demo`: an admin, a trainer and three trainees, created when
//! absent, so a new user can log in and try Spotter at once.

use crate::domain::accounts::{self, NewAccount};
use crate::domain::model::Role;
use crate::state::AppState;
use crate::store::users;

pub const PASSWORD: &str = "spotter-demo";

/// (email, role, first name, last name)
pub const USERS: [(&str, Role, &str, &str); 5] = [
    ("admin@example.com", Role::Admin, "Alex", "Admin"),
    ("coach@example.com", Role::Trainer, "Sam", "Rivera"),
    ("ana@example.com", Role::Trainee, "Ana", "Lima"),
    ("ben@example.com", Role::Trainee, "Ben", "Okafor"),
    ("cy@example.com", Role::Trainee, "Cy", "Young"),
];

const TRAINER: &str = "coach@example.com";

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    for (email, role, first, last) in USERS {
        if users::by_email(state.db.pool(), email).await?.is_some() {
            continue;
        }
        let account = NewAccount {
            email,
            password: PASSWORD,
            role,
            first_name: first,
            last_name: last,
            trainer_email: (role == Role::Trainee).then_some(TRAINER),
        };
        accounts::create_user(state, &account)
            .await
            .map_err(|e| anyhow::anyhow!("creating {email}: {}", e.detail()))?;
    }
    Ok(())
}
