//! `jinguan`: the command-line entry point.
//!
//! It runs the server (`serve`, and `demo` with demo data), administers it (`admin`), answers
//! questions about the tariff and the code tables, reads declarations, generates synthetic
//! trade data, works the ledger and runs benchmarks. Every failure prints one line starting with a stable code and exits non-zero.

mod bench;
mod crossborder_bench;
mod demo;
mod demo_bonded;
mod demo_ceb;
mod demo_server;
mod describe;
mod edi;
mod edifact_bench;
mod exchange_bench;
mod gen;
mod intake_bench;
mod ledger;
mod ledger_bench;
mod operator;
mod pipeline_bench;
mod serve;
mod signature_bench;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jinguan_refdata::{RefData, Source};

/// Every request allocates a few hundred small objects (parsed fields, decimals, JSON) on
/// one thread and frees them on another; glibc's allocator spent a fifth of the pipeline's
/// time on that, mimalloc's per-thread free lists a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jinguan",
    version,
    about = "Jinguan (金关): trade single window and customs clearance"
)]
struct Cli {
    /// Load reference data from this directory (laid out like the repository's `data/`)
    /// instead of the copy built into the binary.
    // Named apart from the ledger commands' own `--data-dir`, which is a ledger store.
    #[arg(long, global = true, value_name = "DIR")]
    refdata_dir: Option<PathBuf>,
    /// Load customs monthly exchange rates from this file instead of the shipped example.
    #[arg(long, global = true, value_name = "FILE")]
    exchange_rates: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The platform with demo data: the server on a fresh data directory with demo
    /// enterprises, tokens and rules, fed generated declarations that officers, banks and
    /// brokers then carry through every state. Prints the URL and the tokens.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Data directory (default: a fresh one under the temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Declarations fed per second.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Stop after this many seconds and report what was reached (default: run until
        /// Ctrl-C). Fails if some state or channel was not reached.
        #[arg(long)]
        seconds: Option<u64>,
        /// Stop after feeding this many declarations (as fast as `--rate` allows) and report,
        /// like `--seconds`.
        #[arg(long)]
        count: Option<u64>,
    },
    /// A guided tour on the embedded data: tables, the tariff, declarations generated,
    /// written as XML and read back.
    Tour,
    /// The national tariff.
    Tariff {
        #[command(subcommand)]
        command: TariffCommand,
    },
    /// List the code tables, show one table, or one code of it.
    Codes {
        /// Table name, e.g. country, currency, trade-mode, licence-document.
        table: Option<String>,
        /// A code in the table (case-sensitive).
        code: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Goods declarations.
    Declaration {
        #[command(subcommand)]
        command: DeclarationCommand,
    },
    /// UN/EDIFACT interchanges.
    Edi {
        #[command(subcommand)]
        command: edi::EdiCommand,
    },
    /// Generate synthetic trade data.
    Gen {
        #[command(subcommand)]
        command: GenCommand,
    },
    /// Sign a message as a client does: prints the value of the `X-Jws-Signature` header
    /// that goes beside the file's exact bytes (a detached JWS naming the certificate), or
    /// with `--enveloped` the XML message itself with its XML-DSig signature inside (SM2-SM3,
    /// C14N 1.0, as the E-Port's clients sign), to send as it is.
    Sign {
        /// The message (declaration JSON or XML), sent byte for byte as signed.
        file: PathBuf,
        /// The signer's private key (PKCS#8 PEM: `openssl genpkey -algorithm SM2`, or ours).
        #[arg(long)]
        key: PathBuf,
        /// The signer's certificate (PEM), issued by the platform CA.
        #[arg(long)]
        cert: PathBuf,
        /// Put an enveloped XML-DSig signature into the (UTF-8 XML) message and print it.
        #[arg(long)]
        enveloped: bool,
    },
    /// Check a receipt offline with the platform's CA certificate alone: the platform
    /// certificate, its signature on the receipt as shown, the signed tree head and the
    /// entry's inclusion proof. Prints what was proven.
    VerifyReceipt {
        /// The receipt as the API returned it (JSON).
        receipt: PathBuf,
        /// The CA certificate (PEM; `GET /api/v1/pki/ca`, or `keys/ca.crt`).
        #[arg(long)]
        ca: PathBuf,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: ledger::KeysCommand,
    },
    /// The electronic ledger: append, heads, proofs, verification.
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// Run the HTTP API on a data directory (its ledger and keys as `jinguan ledger` keeps
    /// them).
    Serve {
        /// The data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// The ledger's store: a `postgres://` URL (default: SQLite in the data directory).
        #[arg(long)]
        store: Option<String>,
        /// Whether declarations must be signed (`X-Jws-Signature`, a certificate of the
        /// caller's party).
        #[arg(long, value_enum, default_value = "required")]
        signatures: serve::Signatures,
        /// Where parties' mailboxes live: `nats://host:port[,host:port…][?replicas=3]` for
        /// NATS JetStream, shared by every node (default: embedded, in the store).
        #[arg(long, value_name = "URL")]
        exchange: Option<String>,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Benchmarks that print their figures.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token bound to a party and a role; prints it (only its hash is kept).
    Create {
        /// The data directory the server runs on.
        #[arg(long)]
        data_dir: PathBuf,
        /// The party's code (enterprise customs code or USCC, bank or customs code).
        #[arg(long)]
        party: String,
        /// enterprise, broker, officer, bank or admin.
        #[arg(long)]
        role: String,
        /// Days until it expires.
        #[arg(long, default_value_t = jinguan_server::auth::DEFAULT_TOKEN_DAYS,
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// Limit it to these actions (comma-separated: declare, read_declarations, amend,
        /// cancel, review, inspect, hold, release, confirm_exit, pay, read_rules, put_rules,
        /// backtest, issue_certificate, read_certificate, revoke_certificate); default: all
        /// its role allows.
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
    },
    /// List the tokens on file (ids, parties, roles, expiry, revocation, scopes; never a
    /// token or its hash).
    List {
        /// The data directory the server runs on.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Revoke a token by its id (from `list`); a running server refuses it at once.
    Revoke {
        /// The data directory the server runs on.
        #[arg(long)]
        data_dir: PathBuf,
        /// The token's id.
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum TariffCommand {
    /// One tariff line: names, units, and every rate as text and parsed.
    Show {
        /// 10-digit commodity code.
        code: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Counts of rate kinds per column and of unexplained rate strings.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DeclarationCommand {
    /// Read a DecMessage file and print the canonical declaration and diagnostics.
    Parse {
        /// The file (DecMessage, bare or in its ImportMessage wrapper).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum GenCommand {
    /// Realistic synthetic declarations, deterministic for a seed.
    Declarations {
        /// How many.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GenFormat::Json)]
        format: GenFormat,
        /// Write into this directory instead of standard output.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Number of distinct enterprises.
        #[arg(long, default_value_t = 2000)]
        enterprises: usize,
    },
}

/// Output format of generated declarations.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum GenFormat {
    /// One JSON declaration per line.
    Json,
    /// DecMessage XML.
    Decmessage,
}

/// Writes to standard output. A closed pipe (`jinguan ... | head`) ends the output quietly.
pub(crate) fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::new("E0004", format!("cannot write output: {e}"))),
    }
}

/// `println!` through [`emit`], returning the failure from the enclosing function.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::emit(&format!("{}\n", format_args!($($arg)*)))?
    };
}
pub(crate) use say;

/// A failure to report: one line with a stable code.
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}: {}", failure.code, failure.message);
            // A submission-id conflict is an answer, not a malfunction: scripts tell it apart.
            if failure.code == "S0001" {
                ExitCode::from(3)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

pub(crate) fn load_data(
    data_dir: Option<&PathBuf>,
    exchange_rates: Option<&PathBuf>,
) -> Result<RefData, Failure> {
    let source = data_dir.map_or(Source::Embedded, |dir| Source::Directory(dir.clone()));
    let mut data = RefData::load_from(&source).map_err(|e| Failure::new("E0002", e.to_string()))?;
    if let Some(path) = exchange_rates {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::new("E0001", format!("cannot read {}: {e}", path.display())))?;
        data.exchange_rates =
            jinguan_refdata::ExchangeRates::parse(&path.display().to_string(), &text)
                .map_err(|e| Failure::new("E0002", e.to_string()))?;
    }
    Ok(data)
}

/// `jinguan sign`: the detached signature of `file` by `key`, naming `cert`, or the file
/// with its enveloped signature.
fn sign(
    file: &std::path::Path,
    key: &std::path::Path,
    cert: &std::path::Path,
    enveloped: bool,
) -> Result<(), Failure> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| Failure::new("E0001", format!("{}: {e}", path.display())))
    };
    let text = |path: &std::path::Path| {
        String::from_utf8(read(path)?)
            .map_err(|_| Failure::new("C0001", format!("{}: not PEM text", path.display())))
    };
    let message = read(file)?;
    let key = jinguan_crypto::SigningKey::from_pem(&text(key)?, jinguan_crypto::DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0001", e.to_string()))?;
    let certificate = jinguan_crypto::pki::Certificate::from_pem(&text(cert)?)
        .map_err(|e| Failure::new("C0005", e.to_string()))?;
    // A certificate for another key would make signatures every server refuses: say so now.
    let certified = certificate
        .public_key(jinguan_crypto::DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0005", e.to_string()))?;
    if certified != key.verifying_key() {
        return Err(Failure::new(
            "C0005",
            "the certificate is for another key than --key",
        ));
    }
    if enveloped {
        let signed = jinguan_chinaport::xmldsig::sign(
            &message,
            &key,
            &certificate.serial(),
            Some(certificate.der()),
        )
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
        use std::io::Write;
        return std::io::stdout()
            .write_all(&signed)
            .map_err(|e| Failure::new("E0004", format!("cannot write the signed message: {e}")));
    }
    let value = jinguan_crypto::jws::sign(&key, &certificate.serial(), &message)
        .map_err(|e| Failure::new("C0002", e.to_string()))?;
    say!("{value}");
    Ok(())
}

/// `jinguan verify-receipt`.
fn verify_receipt(receipt: &std::path::Path, ca: &std::path::Path) -> Result<(), Failure> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| Failure::new("E0001", format!("{}: {e}", path.display())))
    };
    let ca = String::from_utf8(read(ca)?)
        .map_err(|_| Failure::new("C0005", "the CA certificate is not PEM text"))
        .and_then(|pem| {
            jinguan_crypto::pki::Certificate::from_pem(&pem)
                .map_err(|e| Failure::new("C0005", e.to_string()))
        })?;
    let verified = jinguan_server::pki::verify_receipt(&read(receipt)?, &ca)
        .map_err(|e| Failure::new("C0006", format!("the receipt does not verify: {e}")))?;
    let mut report = serde_json::to_value(&verified).unwrap_or_default();
    report["verified"] = serde_json::Value::Bool(true);
    say!("{report}");
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    let data = || load_data(cli.refdata_dir.as_ref(), cli.exchange_rates.as_ref());
    match cli.command {
        Command::Demo {
            listen,
            data_dir,
            rate,
            seconds,
            count,
        } => demo_server::run(data()?, &listen, data_dir, rate, seconds, count),
        Command::Tour => demo::run(cli.refdata_dir.as_ref(), cli.exchange_rates.as_ref()),
        Command::Tariff {
            command: TariffCommand::Show { code, json },
        } => describe::tariff_show(&data()?, &code, json),
        Command::Tariff {
            command: TariffCommand::Stats { json },
        } => describe::tariff_stats(&data()?, json),
        Command::Codes { table, code, json } => {
            describe::codes(&data()?, table.as_deref(), code.as_deref(), json)
        }
        Command::Declaration {
            command: DeclarationCommand::Parse { file, json },
        } => describe::declaration_parse(&data()?, &file, json),
        Command::Edi { command } => edi::run(command),
        Command::Gen {
            command:
                GenCommand::Declarations {
                    count,
                    seed,
                    format,
                    out,
                    enterprises,
                },
        } => gen::declarations(&data()?, count, seed, format, out.as_deref(), enterprises),
        Command::Sign {
            file,
            key,
            cert,
            enveloped,
        } => sign(&file, &key, &cert, enveloped),
        Command::VerifyReceipt { receipt, ca } => verify_receipt(&receipt, &ca),
        Command::Keys { command } => ledger::keys(command),
        Command::Ledger { command } => ledger::run(command),
        Command::Bench { command } => bench::run(command, cli.refdata_dir.as_ref()),
        Command::Serve {
            data_dir,
            listen,
            store,
            signatures,
            exchange,
        } => serve::run(
            data()?,
            &data_dir,
            &listen,
            store.as_deref(),
            signatures,
            exchange.as_deref(),
        ),
        Command::Admin {
            command:
                AdminCommand::Token {
                    command:
                        TokenCommand::Create {
                            data_dir,
                            party,
                            role,
                            days,
                            scope,
                        },
                },
        } => serve::create_token(&data_dir, &party, &role, days, scope),
        Command::Admin {
            command:
                AdminCommand::Token {
                    command: TokenCommand::List { data_dir },
                },
        } => serve::list_tokens(&data_dir),
        Command::Admin {
            command:
                AdminCommand::Token {
                    command: TokenCommand::Revoke { data_dir, id },
                },
        } => serve::revoke_token(&data_dir, &id),
    }
}
