//! `jinguan demo`: the platform on a fresh data directory with demo parties, tokens and
//! rules, fed generated declarations that the demo's officer, bank and brokers then carry
//! through every state, over the HTTP API as any client would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jinguan_refdata::RefData;
use jinguan_server::Role;
use jinguan_testkit::{GenOptions, Generator};
use jinguan_types::declaration::Declaration;
use serde_json::{json, Value};

use crate::{say, Failure};

/// The demo's rule set, put in force through the API at start: the shipped rules plus a
/// documents rule on long declarations, a reference-price rule, and a 5 % draw.
const DEMO_RULE_SET: &str = r#"{
  "version": 2,
  "rules": [
    {"id": "PHONES", "reason": "mobile phones: documents reviewed", "channel": "yellow",
     "valid_from": "2020-01-01", "when": [{"fact": "item.hs_code", "op": "prefix", "value": "8517"}]},
    {"id": "MANY-ITEMS", "reason": "eight items or more: documents reviewed", "channel": "yellow",
     "valid_from": "2020-01-01", "when": [{"fact": "items", "op": "ge", "value": 8}]},
    {"id": "UNDERVALUED", "reason": "a unit value under half the reference price", "channel": "red",
     "valid_from": "2020-01-01", "when": [{"fact": "item.price_ratio", "op": "lt", "value": 0.5}]},
    {"id": "LARGE", "reason": "value over 5 million yuan", "channel": "red",
     "valid_from": "2020-01-01", "when": [{"fact": "total_value_cny", "op": "gt", "value": 5000000}]}
  ],
  "random": {"percent": {"general": "5"}, "channel": "red", "seed": 7}
}"#;

/// Statuses and channels a demo run must reach.
const MUST_REACH: &[&str] = &[
    "selected",
    "reviewed",
    "inspected",
    "awaiting_payment",
    "paid",
    "guaranteed",
    "released",
    "exit_confirmed",
    "cancelled",
    "held",
    "amended",
    "channel:green",
    "channel:yellow",
    "channel:red",
    // A CUSDEC from the broker's EDI system accepted like any declaration.
    "edifact-accepted",
    // Cross-border parcels: released (800), sent back for a missing payment (100), a buyer
    // over the yearly limit taxed as general trade, a cancellation accepted (399).
    "ceb:800",
    "ceb:100",
    "ceb:general-trade",
    "ceb:399",
    // Parcels selectivity sent to an inspection, released by the officer.
    "ceb:500",
    "ceb:officer-release",
    // 金关二期: inventories recorded (Y) and refused (3), gate passes recorded.
    "bonded:INV201-Y",
    "bonded:INV201-3",
    "bonded:SAS221-Y",
];

struct Client {
    base: String,
    agent: ureq::Agent,
    /// The broker's key and certificate serial: declarations and amendments (the requests
    /// that carry a submission id to a declarant route) are signed with it.
    signer: Option<(jinguan_crypto::SigningKey, String)>,
}

impl Client {
    fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<(&str, &[u8], &str)>,
    ) -> (u16, Value) {
        let mut request = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"));
        let result = match body {
            Some((content_type, bytes, id)) => {
                request = request.set("Content-Type", content_type);
                if !id.is_empty() {
                    request = request.set("Submission-Id", id);
                    let declarant = path == "/api/v1/declarations" || path.ends_with("/amend");
                    if let (true, Some((key, serial))) = (declarant, &self.signer) {
                        match jinguan_crypto::jws::sign(key, serial, bytes) {
                            Ok(signature) => request = request.set("X-Jws-Signature", &signature),
                            Err(e) => return (0, json!({"error": e.to_string()})),
                        }
                    }
                }
                request.send_bytes(bytes)
            }
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => return (0, json!({"error": e.to_string()})),
        };
        let status = response.status();
        let value = response
            .into_string()
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        (status, value)
    }
}

impl Client {
    /// Posts an XML message to `/api/v1/messages`, with a detached signature when given:
    /// the status and the body.
    fn post_message(&self, token: &str, body: &[u8], signature: Option<&str>) -> (u16, String) {
        let mut request = self
            .agent
            .post(&format!("{}/api/v1/messages", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/xml");
        if let Some(signature) = signature {
            request = request.set("X-Jws-Signature", signature);
        }
        let response = match request.send_bytes(body) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(e) => return (0, e.to_string()),
        };
        let status = response.status();
        (status, response.into_string().unwrap_or_default())
    }
}

impl crate::demo_bonded::PostSigned for Client {
    fn post_signed(&self, token: &str, body: &[u8]) -> (u16, String) {
        let Some((key, serial)) = &self.signer else {
            return (0, String::new());
        };
        match jinguan_crypto::jws::sign(key, serial, body) {
            Ok(signature) => self.post_message(token, body, Some(&signature)),
            Err(e) => (0, e.to_string()),
        }
    }
}

impl crate::demo_ceb::PostXml for Client {
    fn post_xml(&self, token: &str, body: &[u8]) -> (u16, String) {
        self.post_message(token, body, None)
    }

    fn decide(&self, token: &str, invt_no: &str, decision: &str) -> u16 {
        let body = json!({ "decision": decision, "note": "demo officer" }).to_string();
        self.call(
            "POST",
            &format!("/api/v1/crossborder/inventories/{invt_no}/decision"),
            token,
            Some(("application/json", body.as_bytes(), "")),
        )
        .0
    }
}

struct Tokens {
    broker: String,
    enterprise: String,
    officer: String,
    bank: String,
    admin: String,
}

fn fresh_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("jinguan-demo-{}-{stamp}", std::process::id()))
}

pub(crate) fn run(
    refdata: RefData,
    listen: &str,
    data_dir: Option<PathBuf>,
    rate: f64,
    seconds: Option<u64>,
    count: Option<u64>,
) -> Result<(), Failure> {
    let data_dir = data_dir.unwrap_or_else(fresh_dir);
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: 1_000_000,
            seed: 7,
            enterprises: 40,
        },
    )
    .map_err(|e| Failure::new("E0409", e.to_string()))?;
    let cross_border = crate::demo_ceb::CrossBorder::new(crate::demo_ceb::goods(&refdata));
    let first = generator.declaration(0);
    let party_code =
        |p: &jinguan_types::declaration::Party| p.customs_code.clone().or_else(|| p.uscc.clone());
    let make = |party: &str, role: Role| {
        jinguan_server::auth::create_token(&data_dir, party, role)
            .map_err(|e| Failure::new("E0407", e.to_string()))
    };
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        Failure::new(
            "E0401",
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    let enterprise_party =
        party_code(&first.head.consignee).unwrap_or_else(|| "demo-enterprise".into());
    let tokens = Tokens {
        broker: make("demo-broker", Role::Broker)?,
        enterprise: make(&enterprise_party, Role::Enterprise)?,
        // The General Administration's officer: the feed runs through every district.
        officer: make("0000", Role::Officer)?,
        bank: make("demo-bank", Role::Bank)?,
        admin: make("demo-admin", Role::Admin)?,
    };
    let app = crate::serve::open_app(refdata, &data_dir, None, crate::serve::Signatures::Required)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let listen = listen.to_owned();
    let server = std::thread::spawn(move || {
        crate::serve::serve_until_interrupted(
            app,
            &listen,
            |address| {
                let _ = address_tx.send(address);
                Ok(())
            },
            async {
                let _ = stopped.await;
            },
        )
    });
    let Ok(address) = address_rx.recv() else {
        return match server.join() {
            Ok(result) => result,
            Err(_) => Err(Failure::new("E0405", "the server thread failed")),
        };
    };
    let mut client = Client {
        base: format!("http://{address}"),
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build(),
        signer: None,
    };
    // The registry: who the parties are, and the bank the declarants pay duties through
    // (which is what lets the bank reach their declarations).
    let consignee = &first.head.consignee;
    let parties = [
        json!({"code": "0000", "kind": "customs", "name": "海关总署 General Administration of Customs"}),
        json!({"code": "demo-bank", "kind": "bank", "name": "Demo Bank"}),
        json!({"code": "demo-broker", "kind": "broker", "name": "Demo Customs Broker",
               "credit_class": "general", "banks": ["demo-bank"]}),
        json!({"code": enterprise_party, "kind": "enterprise",
               "name": consignee.name.clone().unwrap_or_else(|| "Demo Enterprise".into()),
               "uscc": consignee.uscc, "customs_code": consignee.customs_code,
               "credit_class": "general", "banks": ["demo-bank"]}),
    ];
    for party in &parties {
        let body = party.to_string();
        let (status, reply) = client.call(
            "POST",
            "/api/v1/parties",
            &tokens.admin,
            Some(("application/json", body.as_bytes(), "")),
        );
        // 409: registered by an earlier run on the same data directory.
        if status != 201 && status != 409 {
            return Err(Failure::new(
                "E0410",
                format!("registering {}: {status} {reply}", party["code"]),
            ));
        }
    }
    // Keys and certificates for the declarants, issued by the platform CA through the API;
    // written to the data directory so a visitor can sign with them too.
    let broker_signer = certify(&client, &tokens.admin, &data_dir, "demo-broker", "broker")?;
    certify(
        &client,
        &tokens.admin,
        &data_dir,
        &enterprise_party,
        "enterprise",
    )?;
    client.signer = Some(broker_signer);
    let (status, reply) = client.call(
        "PUT",
        "/api/v1/risk/rules",
        &tokens.admin,
        Some(("application/json", DEMO_RULE_SET.as_bytes(), "")),
    );
    if status != 201 && status != 200 {
        return Err(Failure::new(
            "E0410",
            format!("putting the demo rules: {status} {reply}"),
        ));
    }
    say!(
        "Jinguan (金关) demo: http://{address}  (data in {})",
        data_dir.display()
    );
    say!("");
    say!("Tokens (Authorization: Bearer <token>):");
    say!("  broker      demo-broker        {}", tokens.broker);
    say!("  enterprise  {enterprise_party:<18} {}", tokens.enterprise);
    say!("  officer     0000               {}", tokens.officer);
    say!("  bank        demo-bank          {}", tokens.bank);
    say!("  admin       demo-admin         {}", tokens.admin);
    say!("");
    say!(
        "Keys and certificates (SM2, issued by the platform CA): {}",
        data_dir.join("demo-keys").display()
    );
    say!("  every declaration the feed sends is signed (X-Jws-Signature; see the README)");
    say!("");
    say!("Try:");
    say!("  curl -H 'Authorization: Bearer {}' 'http://{address}/api/v1/declarations?status=selected'", tokens.officer);
    say!("  curl http://{address}/api/v1/openapi.json");
    say!("");
    say!(
        "Feeding {rate} declarations a second{}; Ctrl-C stops.",
        match (seconds, count) {
            (Some(s), _) => format!(" for {s} s"),
            (None, Some(c)) => format!(", {c} in all"),
            (None, None) => String::new(),
        }
    );
    let started = Instant::now();
    let mut reached: BTreeMap<String, u64> = BTreeMap::new();
    let mut fed = 0u64;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.01));
    let mut next = Instant::now();
    loop {
        if seconds.is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
            || count.is_some_and(|c| fed >= c)
        {
            break;
        }
        let declaration = generator.declaration(fed);
        carry(&client, &tokens, fed, &declaration, &mut reached);
        // A cross-border parcel beside every other declaration.
        if let (1, Some(signer)) = (fed % 2, &client.signer) {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
            // China time, as the companies' systems write it.
            let time = chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000)
                .unwrap_or_default()
                .format("%Y%m%d%H%M%S")
                .to_string();
            crate::demo_ceb::carry(
                &client,
                &tokens.broker,
                &tokens.officer,
                signer,
                &cross_border,
                fed / 2,
                &time,
                &mut reached,
            );
        }
        // A bonded-zone movement beside every tenth declaration.
        if fed % 10 == 5 {
            crate::demo_bonded::carry(&client, &tokens.broker, fed / 10, &mut reached);
        }
        fed += 1;
        if fed % 100 == 0 && seconds.is_none() && count.is_none() {
            say!("  {fed} declarations fed; reached: {}", summary(&reached));
        }
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    show_trace(&client, &tokens.broker)?;
    let _ = stop.send(());
    match server.join() {
        Ok(result) => result?,
        Err(_) => return Err(Failure::new("E0405", "the server thread failed")),
    }
    say!(
        "{fed} declarations fed in {:.0} s; reached: {}",
        started.elapsed().as_secs_f64(),
        summary(&reached)
    );
    let missing: Vec<&str> = MUST_REACH
        .iter()
        .copied()
        .filter(|s| !reached.contains_key(*s))
        .collect();
    if missing.is_empty() {
        say!("every state and channel was reached");
        Ok(())
    } else {
        Err(Failure::new(
            "E0411",
            format!(
                "not reached: {} (feed longer or faster)",
                missing.join(", ")
            ),
        ))
    }
}

fn summary(reached: &BTreeMap<String, u64>) -> String {
    reached
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn note(reached: &mut BTreeMap<String, u64>, reply: &Value) {
    if let Some(status) = reply["status"].as_str() {
        *reached.entry(status.to_owned()).or_default() += 1;
    }
    if reply["held"].as_bool() == Some(true) {
        *reached.entry("held".into()).or_default() += 1;
    }
}

/// Lodges declaration `i` and plays its life: a deterministic plan from `i` decides which
/// declarations are held, amended, cancelled, found non-conform, guaranteed rather than paid,
/// or left waiting at a step, so that every state is on view.
/// Makes a key for `party`, has the admin certify it, writes both under `demo-keys/`;
/// returns the key and the certificate's serial.
fn certify(
    client: &Client,
    admin: &str,
    data_dir: &std::path::Path,
    party: &str,
    role: &str,
) -> Result<(jinguan_crypto::SigningKey, String), Failure> {
    let key = jinguan_crypto::SigningKey::generate(
        jinguan_crypto::Algorithm::Sm2Sm3,
        jinguan_crypto::DEFAULT_DISTID,
    )
    .map_err(|e| Failure::new("C0001", e.to_string()))?;
    let request = json!({
        "party": party, "role": role, "name": format!("demo {role} {party}"),
        "public_key": key.verifying_key().to_pem(),
    });
    let (status, issued) = client.call(
        "POST",
        "/api/v1/pki/certificates",
        admin,
        Some(("application/json", request.to_string().as_bytes(), "")),
    );
    let serial = issued["serial"].as_str().map(str::to_owned);
    let (201, Some(serial), Some(pem)) = (status, serial, issued["certificate"].as_str()) else {
        return Err(Failure::new(
            "E0410",
            format!("certifying {party}: {status} {issued}"),
        ));
    };
    let dir = data_dir.join("demo-keys");
    let write = |name: String, text: &str| {
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(&name), text))
            .map_err(|e| Failure::new("E0401", format!("{}: {e}", dir.join(&name).display())))
    };
    write(format!("{party}.key.pem"), &key.to_pem())?;
    write(format!("{party}.crt"), pem)?;
    Ok((key, serial))
}

/// A declaration as an interchange of one D96B CUSDEC from the demo broker's EDI system.
fn as_cusdec(i: u64, declaration: &Declaration) -> Option<Vec<u8>> {
    let segments = jinguan_edimap::cusdec::write(declaration, "9").ok()?;
    Some(jinguan_edimap::interchange(
        &jinguan_edimap::Envelope {
            syntax: ("UNOW".into(), "4".into()),
            sender: "DEMOBROKER".into(),
            recipient: "JINGUAN".into(),
            prepared: ("261128".into(), "1200".into()),
            reference: format!("D{i}"),
        },
        &[jinguan_edimap::OutMessage {
            reference: "1".into(),
            identifier: jinguan_edimap::cusdec::identifier(),
            segments,
        }],
    ))
}

fn carry(
    client: &Client,
    tokens: &Tokens,
    i: u64,
    declaration: &Declaration,
    reached: &mut BTreeMap<String, u64>,
) {
    // One declaration in five travels as a UN/EDIFACT CUSDEC, as a broker's EDI system sends.
    let (content_type, body) = match (i % 5 == 4).then(|| as_cusdec(i, declaration)).flatten() {
        Some(body) => ("application/edifact", body),
        None => (
            "application/json",
            serde_json::to_vec(declaration).unwrap_or_default(),
        ),
    };
    let (status, receipt) = client.call(
        "POST",
        "/api/v1/declarations",
        &tokens.broker,
        Some((content_type, &body, &format!("demo-{i}"))),
    );
    if content_type == "application/edifact" && status == 201 {
        *reached.entry("edifact-accepted".into()).or_default() += 1;
    }
    if status != 201 {
        *reached
            .entry(receipt["status"].as_str().unwrap_or("refused").to_owned())
            .or_default() += 1;
        return;
    }
    if let Some(channel) = receipt["channel"].as_str() {
        *reached.entry(format!("channel:{channel}")).or_default() += 1;
    }
    let Some(entry_id) = receipt["entry_id"].as_str().map(str::to_owned) else {
        return;
    };
    let path = |action: &str| format!("/api/v1/declarations/{entry_id}/{action}");
    let officer = |action: &str, body: Value| {
        client.call(
            "POST",
            &path(action),
            &tokens.officer,
            Some(("application/json", body.to_string().as_bytes(), "")),
        )
    };
    let plan = i % 20;
    let (_, mut current) = client.call(
        "GET",
        &format!("/api/v1/declarations/{entry_id}"),
        &tokens.broker,
        None,
    );
    note(reached, &current);
    if plan == 1 {
        // Left as selected, for an officer to find.
        return;
    }
    if plan == 2 {
        let (_, now) = client.call(
            "POST",
            &path("cancel"),
            &tokens.broker,
            Some((
                "application/json",
                br#"{"reason": "goods not shipped"}"#,
                "",
            )),
        );
        note(reached, &now);
        return;
    }
    if plan == 3 {
        let mut amended = declaration.clone();
        amended.head.notes = Some("corrected packing count".into());
        let body = serde_json::to_vec(&amended).unwrap_or_default();
        let (status, now) = client.call(
            "POST",
            &path("amend"),
            &tokens.broker,
            Some(("application/json", &body, &format!("demo-{i}-v2"))),
        );
        if status == 200 {
            *reached.entry("amended".into()).or_default() += 1;
            current = now;
        }
    }
    if plan == 4 {
        let (_, now) = officer("hold", json!({"reason": "intelligence check"}));
        note(reached, &now);
        if i % 40 == 4 {
            return; // left held
        }
        let (_, now) = officer("release", json!({"reason": "check cleared"}));
        current = now;
    }
    match current["channel"].as_str() {
        Some("yellow") => {
            // Some reviews find fault (always the first, so a short run shows one).
            let fault = plan == 5 || !reached.contains_key("reviewed");
            let outcome = if fault { "non_conform" } else { "conform" };
            let (_, now) = officer(
                "review",
                json!({"outcome": outcome, "findings": ["packing list checked"]}),
            );
            note(reached, &now);
            current = now;
            if outcome == "non_conform" {
                let (_, now) = officer(
                    "inspection",
                    json!({"outcome": "conform", "findings": ["goods as declared"]}),
                );
                note(reached, &now);
                current = now;
            }
        }
        Some("red") => {
            if plan == 5 || !reached.contains_key("inspected") {
                // Found non-conform (always the first, so a short run shows one): it waits
                // for the broker's amendment.
                let (_, now) = officer(
                    "inspection",
                    json!({"outcome": "non_conform", "findings": ["quantity short by 12 cartons"]}),
                );
                note(reached, &now);
                return;
            }
            let (_, now) = officer(
                "inspection",
                json!({"outcome": "conform", "findings": ["goods as declared"]}),
            );
            note(reached, &now);
            current = now;
        }
        _ => {}
    }
    if current["status"] == "awaiting_payment" {
        if plan == 6 {
            return; // left awaiting payment
        }
        let kind = if plan == 7 || plan == 8 {
            "guarantee"
        } else {
            "payment"
        };
        let body = json!({"entry_id": entry_id, "kind": kind, "amount": current["due"], "reference": format!("demo-pay-{i}")});
        let (_, now) = client.call(
            "POST",
            "/api/v1/payments",
            &tokens.bank,
            Some(("application/json", body.to_string().as_bytes(), "")),
        );
        note(reached, &now);
        current = now;
    }
    if matches!(current["status"].as_str(), Some("paid" | "guaranteed")) {
        if plan == 9 {
            return; // left for an officer to release
        }
        let (_, now) = officer("release", json!({}));
        note(reached, &now);
        current = now;
    }
    if current["status"] == "released" && current["direction"] == "E" {
        let (_, now) = officer("exit", json!({"reason": "manifest tallied"}));
        note(reached, &now);
        current = now;
    }
    if current["status"] == "released" && i % 100 == 10 {
        let (_, now) = officer("cancel", json!({"reason": "correction: wrong importer"}));
        note(reached, &now);
    }
}

/// The broker's mailbox, and the trace of its first message: how a declarant sees where its
/// messages went.
fn show_trace(client: &Client, broker: &str) -> Result<(), Failure> {
    let (status, mailbox) = client.call("GET", "/api/v1/mailbox?limit=1", broker, None);
    let Some(first) = mailbox["messages"].get(0).filter(|_| status == 200) else {
        return Ok(());
    };
    let id = first["message_id"].as_str().unwrap_or_default();
    let (status, trace) = client.call("GET", &format!("/api/v1/messages/{id}/trace"), broker, None);
    if status != 200 {
        return Ok(());
    }
    say!("");
    say!("The broker's first message ({id}, GET /api/v1/messages/{id}/trace):");
    for step in trace["steps"].as_array().into_iter().flatten() {
        let detail = ["party", "kind", "ledger", "status", "receipt_code", "from"]
            .iter()
            .filter_map(|k| {
                step[*k]
                    .as_str()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k} {v}"))
            })
            .collect::<Vec<_>>()
            .join(", ");
        say!(
            "  {:<17} {}  {detail}",
            step["step"].as_str().unwrap_or(""),
            step["time"].as_str().unwrap_or("-")
        );
    }
    say!("");
    Ok(())
}
