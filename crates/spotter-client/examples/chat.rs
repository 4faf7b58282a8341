//! A terminal chat on `LiveConversation`: follows one conversation across reconnects and sends
//! each line typed.
//!
//! ```sh
//! cargo run -p spotter-client --example chat -- http://127.0.0.1:8001/ coach@example.com spotter-demo 1
//! ```

use std::io::BufRead;

use spotter_client::{Client, LiveConversation, Update};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, email, password, conversation] = args.as_slice() else {
        eprintln!("usage: chat <server URL> <email> <password> <conversation id>");
        std::process::exit(2);
    };
    let client = Client::new(url)?.logged_in(email, password).await?;
    let me = client.me().await?.id;
    let mut live = LiveConversation::open(client, conversation.parse()?, None).await?;
    // Lines from stdin, read on a plain thread and handed over.
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(text) if !text.trim().is_empty() => { live.send(&text); }
                Some(_) => {}
                None => return Ok(()),
            },
            update = live.next() => match update {
                Some(Update::Message(m)) => {
                    let who = m.sender.map_or_else(|| "?".to_owned(), |s| if s.id == me { "me".to_owned() } else { s.first_name });
                    println!("[{}] {who}: {}", m.created_at, m.content);
                }
                Some(Update::Typing { is_typing: true, .. }) => println!("… typing"),
                Some(Update::Read { .. }) => println!("(read)"),
                Some(Update::Delivered { up_to_message_id }) => println!("(delivered up to {up_to_message_id})"),
                Some(Update::SendFailed { detail, .. }) => println!("(not sent: {detail})"),
                Some(Update::Disconnected) => println!("(disconnected; reconnecting)"),
                Some(Update::Connected) => println!("(connected)"),
                Some(Update::Closed { code, reason }) => { println!("(closed {code}: {reason})"); return Ok(()); }
                Some(_) => {}
                None => return Ok(()),
            },
        }
    }
}
