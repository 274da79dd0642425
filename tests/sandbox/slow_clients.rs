//! The sandbox as a shared service under a slow-client flood: 2,000 connections that send
//! their request headers a byte at a time and never finish, against `sandbox serve` limited to
//! 1,024 file descriptors. A normal request is answered within a second throughout, and every
//! slow connection is closed within the header timeout.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const SLOW_CLIENTS: usize = 2_000;
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// This test process holds 2,000 sockets of its own: raise its soft limit to the hard one.
fn raise_own_descriptor_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        limit.current = Some(hard);
    }
    let _ = setrlimit(Resource::Nofile, limit);
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_neither_starve_normal_requests_nor_hold_connections() {
    let own_limit = raise_own_descriptor_limit();
    if own_limit <= SLOW_CLIENTS as u64 + 200 {
        // Not this code's fault: the machine lets no process hold the flood's sockets.
        eprintln!(
            "note: skipped the slow-client test: it needs {} file descriptors, and this machine's hard limit is {own_limit}",
            SLOW_CLIENTS + 200
        );
        return;
    }
    let mut server = tokio::process::Command::new("bash")
        .args([
            "-c",
            // At most 1,024 descriptors (fewer where the hard limit is lower already).
            "ulimit -n 1024 2>/dev/null || true; exec \"$0\" sandbox serve --addr 127.0.0.1:0 --header-timeout 2s",
            env!("CARGO_BIN_EXE_orgform"),
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = lines
        .next_line()
        .await
        .unwrap()
        .expect("the sandbox starts");
    let base = first
        .strip_prefix("orgform sandbox listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .trim()
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let addr = base.trim_start_matches("http://").to_owned();

    // The flood: each client connects, starts a request and then trickles one header byte
    // every 200 ms, never ending the head; it records when the server closed it.
    let mut slow = Vec::new();
    for _ in 0..SLOW_CLIENTS {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let Ok(stream) = tokio::net::TcpStream::connect(&addr).await else {
                return Some(Duration::ZERO); // refused outright: never held
            };
            // From the established connection (a connect may wait out a SYN retry first).
            let connected = Instant::now();
            let (mut reader, mut writer) = stream.into_split();
            let trickle = async {
                let _ = writer
                    .write_all(b"GET /_sandbox/stats HTTP/1.1\r\nHost: sandbox\r\nX-Slow: ")
                    .await;
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if writer.write_all(b"a").await.is_err() {
                        break;
                    }
                }
            };
            let closed = async {
                let mut buffer = [0u8; 256];
                loop {
                    match reader.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            };
            tokio::select! {
                _ = closed => Some(connected.elapsed()),
                _ = trickle => Some(connected.elapsed()),
                _ = tokio::time::sleep(HEADER_TIMEOUT * 4) => None,
            }
        }));
    }

    // Meanwhile, a normal client asks for the health check every 100 ms on a new connection.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    let until = Instant::now() + HEADER_TIMEOUT * 3;
    while Instant::now() < until {
        let asked = Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            http.get(format!("{base}/_sandbox/health")).send(),
        )
        .await;
        let took = asked.elapsed();
        let status = answer
            .unwrap_or_else(|_| panic!("no answer within 5 s"))
            .unwrap_or_else(|e| {
                panic!("the health check failed after {:?}: {e:?}", asked.elapsed())
            })
            .status();
        assert_eq!(status, 200);
        slowest = slowest.max(took);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered >= 20, "{answered}");
    assert!(
        slowest < Duration::from_secs(1),
        "a normal request waited {slowest:?} behind the slow clients"
    );

    let mut held = Vec::new();
    for client in slow {
        held.push(client.await.unwrap());
    }
    let still_open = held.iter().filter(|h| h.is_none()).count();
    assert_eq!(still_open, 0, "slow connections were never closed");
    let longest = held.iter().flatten().max().copied().unwrap_or_default();
    assert!(
        longest <= HEADER_TIMEOUT + Duration::from_secs(1),
        "a slow connection was held {longest:?} (header timeout {HEADER_TIMEOUT:?})"
    );
    eprintln!(
        "slow clients: {answered} health checks, slowest {slowest:?}; slow connections held at most {longest:?}"
    );
    server.kill().await.unwrap();
}
