//! `orgform sandbox serve`: run the vendor emulator until interrupted.

use std::path::PathBuf;

use crate::output;
use crate::sandbox::{self, SandboxOptions, Seed};

use super::exit;

/// Resolved settings of `sandbox serve`.
pub struct ServeSettings {
    pub addr: String,
    pub db: Option<PathBuf>,
    pub seed: Option<PathBuf>,
    pub shapes: crate::sandbox::Shapes,
    pub control_token: Option<String>,
    pub limits: crate::sandbox::ConnectionLimits,
    pub host_names: Vec<String>,
}

/// Whether `addr` (`host:port`) listens on loopback only.
fn is_loopback(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(socket) => socket.ip().is_loopback(),
        Err(_) => addr
            .rsplit_once(':')
            .is_some_and(|(host, _)| host == "localhost"),
    }
}

pub fn serve(settings: ServeSettings) -> u8 {
    if settings.control_token.as_deref().is_some_and(str::is_empty) {
        output::fail("--control-token is empty");
        return exit::ERROR;
    }
    if settings.control_token.is_none() && !is_loopback(&settings.addr) {
        output::fail(&format!(
            "refusing to serve on {} without a control token: anyone who can reach it could wipe or re-seed the sandbox through /_sandbox; pass --control-token TOKEN (or set ORGFORM_SANDBOX_CONTROL_TOKEN), or listen on 127.0.0.1",
            settings.addr
        ));
        return exit::ERROR;
    }
    let seed = match &settings.seed {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Seed::parse(&t).map_err(|e| e.to_string()))
        {
            Ok(seed) => Some(seed),
            Err(e) => {
                output::fail(&format!("cannot load seed {}: {e}", path.display()));
                return exit::ERROR;
            }
        },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::fail(&format!("cannot start the async runtime: {e}"));
            return exit::ERROR;
        }
    };
    runtime.block_on(async {
        let options = SandboxOptions {
            addr: settings.addr.clone(),
            db: settings.db.clone(),
            seed,
            shapes: settings.shapes,
            control_token: settings.control_token.clone(),
            limits: settings.limits,
            host_names: settings.host_names.clone(),
            ..SandboxOptions::default()
        };
        let running = match sandbox::start(options).await {
            Ok(running) => running,
            Err(e) => {
                output::fail(&e.to_string());
                return exit::ERROR;
            }
        };
        output::say(&format!("orgform sandbox listening on {}", running.base_url()));
        match &settings.db {
            Some(db) => output::say(&format!("  state:     {}", db.display())),
            None => output::say("  state:     in memory (pass --db FILE to keep it)"),
        }
        for line in running.vendor_lines() {
            output::say(&line);
        }
        let guarded = if settings.control_token.is_some() {
            " (Authorization: Bearer <control token>)"
        } else {
            ""
        };
        output::say(&format!("  control:   {}/_sandbox/{{stats,requests,faults,shapes,seed,reset}}{guarded}; health: {}/_sandbox/health", running.base_url(), running.base_url()));
        let _ = tokio::signal::ctrl_c().await;
        running.stop().await;
        exit::SUCCESS
    })
}
