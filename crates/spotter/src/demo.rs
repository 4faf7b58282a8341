//! Demo data for `spotter serve --demo`: an admin, a trainer and three trainees, created when
//! absent, so a new user can log in and try Spotter at once.

use crate::domain::accounts::NewAccount;
use crate::domain::model::{Role, UserId};
use crate::state::AppState;
use crate::store::NewUser;

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
        if state.store.user_by_email(email).await?.is_some() {
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
        state
            .accounts
            .create_user(&account)
            .await
            .map_err(|e| anyhow::anyhow!("creating {email}: {}", e.detail()))?;
    }
    Ok(())
}

/// What `spotter user bulk` makes.
pub struct Bulk<'a> {
    pub trainers: u32,
    pub trainees_per_trainer: u32,
    pub prefix: &'a str,
    pub password: &'a str,
}

#[derive(Debug, serde::Serialize)]
pub struct BulkUser {
    pub id: UserId,
    pub email: String,
}

#[derive(Debug, serde::Serialize)]
pub struct BulkTrainer {
    #[serde(flatten)]
    pub user: BulkUser,
    pub trainees: Vec<BulkUser>,
}

/// Creates (or finds) the users of a load test. The password is hashed once for all of them:
/// Argon2 per user would take minutes for thousands.
pub async fn bulk(state: &AppState, spec: &Bulk<'_>) -> anyhow::Result<Vec<BulkTrainer>> {
    let hash = crate::auth::password::hash(spec.password.to_owned()).await?;
    let store = &state.store;
    let now = state.clock.now();
    let find_or_add = |email: String, role: Role, first: String, parent: Option<UserId>| {
        let hash = hash.clone();
        async move {
            if let Some(u) = store.user_by_email(&email).await? {
                return anyhow::Ok(BulkUser { id: u.id, email });
            }
            let new = NewUser {
                email: &email,
                password_hash: &hash,
                first_name: &first,
                last_name: "Load",
                role,
                parent_trainer_id: parent,
            };
            let id = store.insert_user(&new, now).await?;
            anyhow::Ok(BulkUser { id, email })
        }
    };
    let mut out = Vec::new();
    for i in 0..spec.trainers {
        let trainer = find_or_add(
            format!("{}-trainer-{i}@load.test", spec.prefix),
            Role::Trainer,
            format!("Trainer{i}"),
            None,
        )
        .await?;
        let mut trainees = Vec::new();
        for j in 0..spec.trainees_per_trainer {
            let email = format!("{}-trainee-{i}-{j}@load.test", spec.prefix);
            trainees.push(
                find_or_add(
                    email,
                    Role::Trainee,
                    format!("Trainee{i}x{j}"),
                    Some(trainer.id),
                )
                .await?,
            );
        }
        out.push(BulkTrainer {
            user: trainer,
            trainees,
        });
    }
    Ok(out)
}
