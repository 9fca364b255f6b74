//! `jinguan serve`: the HTTP API on a data directory.

use std::path::Path;
use std::sync::Arc;

use jinguan_clearance::risk::{ReferencePrices, RuleSet, DEMO_RULES};
use jinguan_refdata::RefData;
use jinguan_server::{App, Metrics};

use crate::{say, Failure};

pub(crate) fn run(refdata: RefData, data_dir: &Path, listen: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Failure::new(
            "E0401",
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    let store = crate::ledger::open_writer(data_dir)?;
    let rules = RuleSet::from_json(DEMO_RULES).map_err(|e| Failure::new("E0402", e.to_string()))?;
    let app = Arc::new(App {
        store: Arc::new(store),
        refdata: Arc::new(refdata),
        rules,
        references: ReferencePrices::default(),
        general_rate_origins: Vec::new(),
        metrics: Metrics::default(),
    });
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::new("E0403", format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure::new("E0404", format!("cannot listen on {listen}: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::new("E0404", e.to_string()))?;
        say!(
            "jinguan serving on http://{address} (data in {})",
            data_dir.display()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        jinguan_server::serve(listener, app, shutdown)
            .await
            .map_err(|e| Failure::new("E0405", e.to_string()))
    })
}
