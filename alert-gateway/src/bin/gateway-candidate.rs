//! `gateway-candidate`: a leader-election candidate process, for the gateway's fencing
//! tests and to watch an election by hand: campaigns in `--election` on `--store`, and while it leads writes a
//! fenced counter to `conditions/<--key>` every `--every-ms`. It prints one line per
//! step on standard output: `LEADING <term>`, `WROTE <term> <seq> <revision>`,
//! `FENCED <term>`, `LOST <term>`.
//!
//! It writes without first asking whether it still leads, as a process paused between
//! that check and its write would: the store's fence is what must stop a stale write.
//! When it notices the loss it makes one more (probe) write, to show the fence refusing
//! it once a newer term exists.
//!
//! ```sh
//! cargo run -p alert-gateway --bin gateway-candidate -- --store sqlite:/tmp/g.db --holder a
//! ```

use std::io::Write;
use std::time::Duration;

use alert_gateway::election::Elector;
use alert_gateway::store::{self, Expect, Key, Kind, Op, StoreError, Txn};

struct Args {
    store: String,
    election: String,
    holder: String,
    ttl: Duration,
    every: Duration,
    key: String,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        store: String::new(),
        election: "candidates".into(),
        holder: String::new(),
        ttl: Duration::from_secs(2),
        every: Duration::from_millis(50),
        key: "fence-log".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let ms = || {
            value
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--store" => args.store = value.clone(),
            "--election" => args.election = value.clone(),
            "--holder" => args.holder = value.clone(),
            "--ttl-ms" => args.ttl = ms()?,
            "--every-ms" => args.every = ms()?,
            "--key" => args.key = value.clone(),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.store.is_empty() || args.holder.is_empty() {
        return Err("usage: candidate --store URL --holder NAME [--election NAME] [--ttl-ms N] [--every-ms N] [--key ID]".into());
    }
    Ok(args)
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let args = parse()?;
    let store = store::open(&args.store, None)
        .await
        .map_err(|e| e.to_string())?;
    let elector = Elector::new(store.clone(), &args.election, &args.holder, args.ttl)
        .map_err(|e| e.to_string())?;
    let key = Key::new(Kind::Condition, &args.key).map_err(|e| e.to_string())?;
    let mut seq = 0u64;
    loop {
        let lead = elector.campaign().await.map_err(|e| e.to_string())?;
        let term = lead.term();
        say(format!("LEADING {term}"));
        loop {
            seq += 1;
            let value = format!(
                r#"{{"holder":"{}","term":{term},"seq":{seq}}}"#,
                args.holder
            );
            let write = Txn::new(vec![Op::Put {
                key: key.clone(),
                value,
                expect: Expect::Any,
            }])
            .fenced(Some(lead.fence()));
            match store.txn(write).await {
                Ok(revision) => say(format!("WROTE {term} {seq} {revision}")),
                Err(StoreError::Fenced { .. }) => {
                    say(format!("FENCED {term}"));
                    break;
                }
                Err(e) => say(format!("ERROR {term} {e}")),
            }
            if !lead.is_current() {
                say(format!("LOST {term}"));
                // A test tool: show that a write the deposed leader would still make is
                // refused by the store (a real leader stops writing here).
                let probe = Txn::new(vec![Op::Put {
                    key: key.clone(),
                    value: format!(r#"{{"holder":"{}","term":{term},"seq":0}}"#, args.holder),
                    expect: Expect::Any,
                }])
                .fenced(Some(lead.fence()));
                match store.txn(probe).await {
                    Err(StoreError::Fenced { .. }) => say(format!("FENCED {term}")),
                    Ok(revision) => say(format!("WROTE {term} 0 {revision}")),
                    Err(e) => say(format!("ERROR {term} {e}")),
                }
                break;
            }
            tokio::time::sleep(args.every).await;
        }
    }
}
