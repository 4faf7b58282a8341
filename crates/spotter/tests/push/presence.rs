//! No push where it would not help: the recipient reading the conversation (a conversation
//! socket, or a user socket focused on it, on any node), or having read the messages already.

use serde_json::json;
use spotter::domain::model::{ConversationId, UserId};

use crate::helpers::{self, Backend, eventually};
use crate::{COALESCE, Push};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_while_reading_nor_once_read() {
    let p = Push::setup(Backend::Sqlite, |_| {}).await;
    p.browser().await;
    // The trainee has the conversation open on a live socket.
    let open = helpers::live(&p.app.trainee.client, Some(p.conv)).await;
    p.send("you are reading this").await;
    p.round_after(COALESCE).await;
    open.close().await;
    let hub = p.app.state.bus.hub().clone();
    let (trainee, conv) = (UserId(p.app.trainee.id), ConversationId(p.conv));
    eventually("the server to let the closed socket go", || async {
        (!hub.is_reading(trainee, conv)).then_some(())
    })
    .await;
    // Not open, but read before the window ends.
    p.send("read before the push").await;
    p.app.trainee.client.mark_read(p.conv).await.unwrap();
    p.round_after(COALESCE).await;
    assert_eq!(p.outcomes().await[1..], ["reading", "read"]);
    assert!(p.web.peer.delivered().is_empty());
    // And a message nobody read is pushed.
    p.send("now push").await;
    p.round_after(COALESCE).await;
    assert_eq!(p.web.peer.delivered()[0]["body"], "now push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_socket_focused_on_the_conversation_counts_as_reading() {
    let p = Push::setup(Backend::Sqlite, |_| {}).await;
    p.browser().await;
    let mut dashboard = p.app.trainee.client.socket(None, None).await.unwrap();
    dashboard
        .send_json(&json!({"type": "focus", "conversation_id": p.conv}))
        .await
        .unwrap();
    helpers::round_trip(&mut dashboard).await;
    p.send("seen on the dashboard").await;
    p.round_after(COALESCE).await;
    dashboard
        .send_json(&json!({"type": "focus", "conversation_id": null}))
        .await
        .unwrap();
    helpers::round_trip(&mut dashboard).await;
    p.send("the tab is elsewhere").await;
    p.round_after(COALESCE).await;
    assert_eq!(p.web.peer.delivered()[0]["body"], "the tab is elsewhere");
    assert_eq!(p.outcomes().await[1..], ["reading", "notified"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_another_node_suppresses_the_push() {
    let redis_channel = format!("push-presence:{}", uuid::Uuid::new_v4().simple());
    let p = Push::setup(Backend::Postgres, |c| {
        c.redis_url = Some(
            std::env::var("SPOTTER_TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        );
        c.redis_channel = redis_channel.clone();
    })
    .await;
    p.browser().await;
    // The only worker is node A's; the trainee reads on node B.
    let mut config_b = p.app.config.clone();
    config_b.push_worker = false;
    let node = helpers::spawn_node(config_b, p.app.clock.clone()).await;
    let on_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(p.app.trainee.client.token().unwrap());
    let mut open = on_b.socket(Some(p.conv), None).await.unwrap();
    helpers::round_trip(&mut open).await;
    // Node A learns of it through Redis.
    let bus = p.app.state.bus.clone();
    let (trainee, conv) = (UserId(p.app.trainee.id), ConversationId(p.conv));
    eventually("node A to see the trainee reading on node B", || async {
        bus.is_reading(trainee, conv).await.then_some(())
    })
    .await;
    p.send("read on node B").await;
    p.round_after(COALESCE).await;
    assert_eq!(p.outcomes().await[1..], ["reading"]);
    assert!(p.web.peer.delivered().is_empty());
    node.stop().await;
}
