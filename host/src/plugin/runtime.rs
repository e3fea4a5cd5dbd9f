//! The runtime that loads plugins and runs every call in a fresh sandbox.

use super::allow::{AllowList, HostPattern};
use super::budget::MemoryBudget;
use super::bundled::Bundled;
use super::cache::{CompileCache, Described};
use super::capability::HostState;
use super::capability::cache::Kept;
use super::capability::delivery::Progress;
use super::deadline::Deadlines;
use super::engine::{self, CONCURRENT_SENDS, EpochTicker};
use super::error::{DeliveryError, LoadError};
use super::info::PluginInfo;
use super::keeper::{Keeper, Prepared};
use super::sandbox::{MemoryRefused, OffTheWorkers, SendState, StoreShared};
use super::secrets::Secrets;
use super::trailer::Precompiled;
use super::types::{
    ChatQuestion, ChatReply, Compiler, Limits, PluginSource, Polled, Receipt, RuntimeOptions,
    SettingValue, cap_text,
};
use super::wit::{self, Answer, Bindings, Call};
use crate::notification::Notification;
use mcp_push_policy::Shapes;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Trap};

/// How long a plugin file's `info()` may take when it is loaded: describing
/// itself is a constant, and three looping files once made every command
/// wait 3 x 15 s.
const DESCRIBE_DEADLINE: Duration = Duration::from_secs(1);

/// What a send may hand back as its error text or remote id: a 24 MiB error
/// text once went whole to stdout and the db.
pub(crate) const MAX_RETURNED: usize = 4 << 10;

/// Engine, linker, HTTP client and compile cache, shared by every plugin.
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    compiler: Compiler,
    linker: Linker<SendState>,
    client: reqwest::Client,
    /// Clients for channels behind a proxy, by proxy URL (a handful at most).
    proxied: std::sync::Mutex<Vec<(String, reqwest::Client)>>,
    limits: Limits,
    cache: Option<CompileCache>,
    permits: Arc<Semaphore>,
    stores: StoreShared,
    keeper: Keeper,
    _ticker: EpochTicker,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS provider; ring is ours.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // An executable that carries its channels compiled carries
        // Cranelift's code, which only a Cranelift engine loads.
        let compiler = match Precompiled::this() {
            Some(_) => Compiler::Optimizing,
            None => options.compiler,
        };
        let (engine, compiler) = engine::build(&options.limits, compiler)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wit::add_to_linker(&mut linker)?;
        let client = http_client().build()?;
        let cache = options
            .cache_dir
            .as_deref()
            .map(|d| CompileCache::new(d, &engine, compiler));
        let deadlines = Arc::new(Deadlines::default());
        let ticker = EpochTicker::start(&engine, deadlines.clone());
        let stores = StoreShared {
            budget: Arc::new(MemoryBudget::new(options.limits.memory_budget_bytes)),
            deadlines,
            slow_lanes: Arc::new(Semaphore::new(engine::slow_lanes())),
        };
        let keeper = {
            let (client, limits) = (client.clone(), options.limits);
            Keeper::new(engine.clone(), stores.clone(), move || {
                HostState::new(&client, limits, "", Arc::default(), Secrets::new())
            })
        };
        Ok(Runtime {
            shared: Arc::new(Shared {
                engine,
                compiler,
                linker,
                client,
                proxied: Default::default(),
                limits: options.limits,
                cache,
                permits: Arc::new(Semaphore::new(CONCURRENT_SENDS as usize)),
                stores,
                keeper,
                _ticker: ticker,
            }),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// The compiler of this runtime's engine (Cranelift when the executable
    /// carries its channels compiled, or Winch cannot run here).
    pub fn compiler(&self) -> Compiler {
        self.shared.compiler
    }

    /// Guest memory held by every call now, and the most ever held at once
    /// (both in bytes, counted against [`Limits::memory_budget_bytes`]).
    pub fn memory_in_use(&self) -> (usize, usize) {
        let budget = &self.shared.stores.budget;
        (budget.in_use(), budget.peak())
    }

    /// The process is stopping: every call running now or started later ends
    /// `grace` from now at the latest, failing with
    /// [`DeliveryError::Interrupted`] if it has not finished by then.
    pub fn cut_calls(&self, grace: Duration) {
        self.shared.stores.deadlines.cut(Instant::now() + grace);
    }

    /// Why loading the plugin file with this hash failed on an earlier start,
    /// if it did (see [`Runtime::remember_failure`]).
    pub fn remembered_failure(&self, sha256: &str) -> Option<String> {
        self.shared.cache.as_ref()?.failure(sha256)
    }

    /// Remember that the file with this hash could not describe itself, so
    /// that later starts skip it without calling it again.
    pub fn remember_failure(&self, sha256: &str, why: &str) {
        // A call cut short by shutdown says nothing about the file.
        if self.shared.stores.deadlines.cut_at().is_some() {
            return;
        }
        if let Some(cache) = &self.shared.cache {
            cache.remember_failure(sha256, why);
        }
    }

    /// Describe a component: from what an earlier start learned about the
    /// same file (kept beside the compile cache), else compiled, linked and
    /// asked. A plugin described from the cache is compiled on its first
    /// call, so a start pays only for the channels it uses (31 bundled
    /// plugins took 17 ms to load from the compile cache, and 3-14 s to
    /// compile on a first start).
    /// `sha256` may be given when known (bundled plugins hash at build time).
    pub async fn load(
        &self,
        wasm: impl Into<Wasm>,
        sha256: Option<&str>,
        source: PluginSource,
    ) -> Result<Plugin, LoadError> {
        let wasm = wasm.into();
        check_header(wasm.bytes())?;
        self.load_with(wasm, sha256, source, None).await
    }

    /// Load a plugin built into this binary, described by what the build
    /// kept of it when it has that (see `plugins/described.json`).
    /// Its header is not checked: the build made it a component, and reading
    /// even its first bytes maps a large block of the executable (8 MiB of a
    /// one-shot's resident memory for the 31 of them).
    pub async fn load_bundled(&self, b: &Bundled) -> Result<Plugin, LoadError> {
        let wasm = Wasm::Bundled(b.wasm);
        self.load_with(wasm, Some(b.sha256), PluginSource::Bundled, b.described)
            .await
    }

    async fn load_with(
        &self,
        wasm: Wasm,
        sha256: Option<&str>,
        source: PluginSource,
        kept: Option<&str>,
    ) -> Result<Plugin, LoadError> {
        let sha256 = match sha256 {
            Some(h) => h.to_string(),
            None => hex::encode(Sha256::digest(wasm.bytes())),
        };
        let rt = &self.shared;
        let known = Precompiled::this()
            .and_then(|p| p.described(&sha256))
            .map(|d| Described {
                wit_version: d.wit_version.clone(),
                info: d.info.clone(),
            })
            .or_else(|| kept.and_then(|k| serde_json::from_str(k).ok()))
            .or_else(|| rt.cache.as_ref().and_then(|c| c.described(&sha256)));
        if let Some(known) = known {
            let secret = |key: &str| known.info.settings.iter().any(|s| s.key == key && s.secret);
            match Shapes::described(known.info.shapes.clone(), secret) {
                Ok(shapes) => {
                    return Ok(self.plugin(
                        known.info,
                        shapes,
                        source,
                        sha256,
                        known.wit_version,
                        wasm,
                        None,
                    ));
                }
                Err(e) => tracing::debug!("described anew: the kept description fails: {e}"),
            }
        }
        let (described, shapes, prepared) = self.describe(wasm.bytes(), &sha256, &source).await?;
        if let Some(cache) = &rt.cache {
            cache.remember_described(&sha256, &described);
        }
        Ok(self.plugin(
            described.info,
            shapes,
            source,
            sha256,
            described.wit_version,
            wasm,
            Some(prepared),
        ))
    }

    /// Compile and link a component, and ask it what it is.
    async fn describe(
        &self,
        wasm: &[u8],
        sha256: &str,
        source: &PluginSource,
    ) -> Result<(Described, Shapes, Arc<Prepared>), LoadError> {
        let rt = &self.shared;
        let (wit_version, prepared) = compile(rt, wasm, sha256)?;
        let prepared = Arc::new(prepared);
        let mut host = rt.host("load", Arc::default(), Secrets::new());
        // A bundled plugin is part of this binary; a file gets a short deadline.
        if matches!(source, PluginSource::File(_)) {
            let call = &mut host.call;
            call.limits.deadline = call.limits.deadline.min(DESCRIBE_DEADLINE);
            call.deadline = Instant::now() + call.limits.deadline;
        }
        let info = match invoke(rt, &prepared, host, Call::Info).await {
            Ok(Answer::Info(info)) => info,
            Ok(_) => unreachable!("info answers info"),
            Err(e) => return Err(LoadError::Trap(e.to_string())),
        };
        let (info, shapes) = *info.map_err(LoadError::BadInfo)?;
        let described = Described { wit_version, info };
        Ok((described, shapes, prepared))
    }

    /// What a bundled plugin says about itself when it is run now, whatever
    /// was kept: for the test that keeps `plugins/described.json` true.
    #[cfg(test)]
    pub(crate) async fn describe_anew(&self, b: &Bundled) -> Result<Described, LoadError> {
        let (described, _, _) = self
            .describe(b.wasm, b.sha256, &PluginSource::Bundled)
            .await?;
        Ok(described)
    }

    #[allow(clippy::too_many_arguments)]
    fn plugin(
        &self,
        info: PluginInfo,
        shapes: Shapes,
        source: PluginSource,
        sha256: String,
        wit_version: String,
        wasm: Wasm,
        prepared: Option<Arc<Prepared>>,
    ) -> Plugin {
        Plugin {
            info,
            shapes: Arc::new(shapes),
            source,
            sha256,
            wit_version,
            size: wasm.bytes().len(),
            wasm,
            prepared: tokio::sync::OnceCell::new_with(prepared),
            allow_memo: Default::default(),
            kept: Default::default(),
            rt: self.shared.clone(),
        }
    }
}

/// A component's bytes: part of this binary, or read from a plugin file (and
/// kept, for a plugin compiled on its first call).
#[derive(Clone)]
pub enum Wasm {
    Bundled(&'static [u8]),
    File(Arc<[u8]>),
}

impl Wasm {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Wasm::Bundled(b) => b,
            Wasm::File(b) => b,
        }
    }
}

impl From<&'static [u8]> for Wasm {
    fn from(b: &'static [u8]) -> Self {
        Wasm::Bundled(b)
    }
}

impl From<Vec<u8>> for Wasm {
    fn from(b: Vec<u8>) -> Self {
        Wasm::File(b.into())
    }
}

impl From<&Vec<u8>> for Wasm {
    fn from(b: &Vec<u8>) -> Self {
        Wasm::File(b.as_slice().into())
    }
}

/// The compiled component: carried by this executable, from the compile
/// cache, or compiled now (and kept in the cache).
pub(crate) fn component(rt: &Runtime, wasm: &[u8], sha256: &str) -> Result<Component, LoadError> {
    component_of(&rt.shared, wasm, sha256)
}

fn component_of(rt: &Shared, wasm: &[u8], sha256: &str) -> Result<Component, LoadError> {
    let precompiled = Precompiled::this().and_then(|p| p.component(&rt.engine, sha256));
    match (precompiled, &rt.cache) {
        (Some(c), _) => Ok(c),
        (None, Some(cache)) => cache.load(&rt.engine, wasm, sha256),
        (None, None) => Component::new(&rt.engine, wasm),
    }
    .map_err(|e| {
        let mut why = format!("{e:#}");
        // A section longer than what is left of the file, or no bytes
        // where more must follow.
        if why.contains("unexpected end-of-file") || why.contains("is out of bounds (bound") {
            why.push_str(" (the file is cut short: an incomplete download or copy?)");
        }
        LoadError::Invalid(why)
    })
}

/// Compile (or take from where [`component`] finds it) and link a component:
/// what its calls need, and the WIT version it was built for.
fn compile(rt: &Shared, wasm: &[u8], sha256: &str) -> Result<(String, Prepared), LoadError> {
    let component = component_of(rt, wasm, sha256)?;
    let wit_version = wit::check_exports(&rt.engine, &component)?;
    let pre = rt
        .linker
        .instantiate_pre(&component)
        .map_err(|e| LoadError::Imports(e.to_string()))?;
    let prepared = Prepared::new(Bindings::new(&wit_version, pre)?);
    Ok((wit_version, prepared))
}

/// How every plugin's HTTP client is set up: redirects are followed by
/// `fetch` itself (each hop checked), one user agent, keep-alive.
fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(super::tls::client_config())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcp-push/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
}

fn check_header(wasm: &[u8]) -> Result<(), LoadError> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    // Bytes 6..8 are the layer: 0 for a core module, 1 for a component.
    if wasm[6..8] == [0, 0] {
        return Err(LoadError::CoreModule);
    }
    Ok(())
}

/// A loaded channel component.
pub struct Plugin {
    info: PluginInfo,
    /// `info.shapes`, checked and compiled.
    shapes: Arc<Shapes>,
    source: PluginSource,
    sha256: String,
    wit_version: String,
    size: usize,
    wasm: Wasm,
    /// Compiled and linked on the first call when the plugin was described
    /// from the cache.
    prepared: tokio::sync::OnceCell<Arc<Prepared>>,
    /// Recent allow lists, by the values of the settings they depend on.
    allow_memo: std::sync::Mutex<Vec<AllowMemo>>,
    /// What each channel instance keeps between sends, by a hash of its name
    /// and settings (a changed setting starts afresh).
    kept: std::sync::Mutex<Vec<(u64, Arc<Kept>)>>,
    rt: Arc<Shared>,
}

/// Channel instances of one plugin whose kept values are held at once.
const KEPT_INSTANCES: usize = 64;

/// The values of the settings an allow list was resolved from, and the list.
type AllowMemo = (Vec<Option<String>>, Arc<AllowList>);

fn same_values<'a>(seen: &[Option<String>], now: impl Iterator<Item = Option<&'a str>>) -> bool {
    let mut count = 0;
    for (i, value) in now.enumerate() {
        if seen.get(i).map(Option::as_deref) != Some(value) {
            return false;
        }
        count = i + 1;
    }
    count == seen.len()
}

/// Allow lists a plugin remembers (one per channel instance using it, for
/// the usual handful of instances).
const ALLOW_MEMO: usize = 16;

impl Plugin {
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    pub fn source(&self) -> &PluginSource {
        &self.source
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The version of `mcp-push:channel` the component was built for
    /// (`0.1.0`, `0.1.3`, ...).
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }

    /// Whether a sandbox is instantiated and waiting for this plugin's next
    /// send (made after a send, off its path; see `keeper`).
    pub fn spare_ready(&self) -> bool {
        self.prepared.get().is_some_and(|p| p.has_spare())
    }

    /// Start compiling (or loading) the component in the background, so the
    /// call that follows finds it ready or under way: a one-shot command
    /// starts it before it opens the store and writes the notification.
    pub fn warm_up(self: &Arc<Self>) {
        if self.prepared.initialized() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let _ = me.prepared().await;
        });
    }

    /// The compiled component, compiled now (off the async threads) if this
    /// is the plugin's first call in this process.
    async fn prepared(&self) -> Result<&Arc<Prepared>, DeliveryError> {
        self.prepared
            .get_or_try_init(|| async {
                let (rt, wasm, sha256) = (self.rt.clone(), self.wasm.clone(), self.sha256.clone());
                let (version, prepared) =
                    tokio::task::spawn_blocking(move || compile(&rt, wasm.bytes(), &sha256))
                        .await
                        .map_err(|e| DeliveryError::Crashed(format!("loading the plugin: {e}")))?
                        .map_err(|e| DeliveryError::Crashed(format!("loading the plugin: {e}")))?;
                if version != self.wit_version {
                    return Err(DeliveryError::Crashed(format!(
                        "the plugin was described as built for {} but is built for {version}",
                        self.wit_version
                    )));
                }
                Ok(Arc::new(prepared))
            })
            .await
    }

    /// The hosts a channel instance with these settings may reach.
    pub fn allow_list(&self, settings: &[SettingValue]) -> AllowList {
        self.resolve(&self.info.allowed_hosts, settings)
    }

    /// The hosts each `setting:` pattern reaches from the settings' defaults
    /// alone: hosts reached without the user writing them, so a plugin
    /// file's approval names them beside the patterns.
    pub fn default_hosts(&self) -> Vec<(&HostPattern, AllowList)> {
        let defaults: Vec<SettingValue> = self
            .info
            .settings
            .iter()
            .filter_map(|s| {
                s.default.clone().map(|value| SettingValue {
                    key: s.key.clone(),
                    value,
                    secret: s.secret,
                })
            })
            .collect();
        self.info
            .allowed_hosts
            .iter()
            .filter(|p| matches!(p, HostPattern::Setting(_)))
            .map(|p| (p, self.resolve(std::slice::from_ref(p), &defaults)))
            .collect()
    }

    fn resolve(&self, patterns: &[HostPattern], settings: &[SettingValue]) -> AllowList {
        let parts = self.public_parts(settings);
        AllowList::resolve(patterns, |key| setting_value(settings, &parts, key))
    }

    /// What each `setting:KEY` allowed host names in these settings: the
    /// pattern's key and the value it takes its origin from.
    pub fn setting_hosts(&self, settings: &[SettingValue]) -> Vec<(String, String)> {
        let parts = self.public_parts(settings);
        self.info
            .allowed_hosts
            .iter()
            .filter_map(|p| match p {
                HostPattern::Setting(key) => {
                    setting_value(settings, &parts, key).map(|v| (key.clone(), v.to_string()))
                }
                _ => None,
            })
            .collect()
    }

    /// The parts of secret settings' values that the plugin's shapes declare
    /// public (`KEY.form`, `KEY.origin`...), for allow lists and listings.
    pub fn public_parts(&self, settings: &[SettingValue]) -> Vec<(String, String)> {
        settings
            .iter()
            .filter(|s| s.secret)
            .flat_map(|s| self.shapes.public_parts(&s.key, &s.value))
            .collect()
    }

    /// [`Plugin::allow_list`], remembered for the last few settings seen: a
    /// channel sends with the same settings every time, and resolving them
    /// parses URLs.
    fn remembered_allow_list(&self, settings: &[SettingValue]) -> Arc<AllowList> {
        // A `setting:KEY.PART` host depends on the whole secret value.
        let value = |key: &str| {
            let key = key.split_once('.').map_or(key, |(base, _)| base);
            settings
                .iter()
                .find(|s| s.key == key)
                .map(|s| s.value.as_str())
        };
        let used = || {
            self.info.allowed_hosts.iter().filter_map(|p| match p {
                HostPattern::Setting(key) => Some(value(key)),
                _ => None,
            })
        };
        let mut memo = self.allow_memo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, list)) = memo.iter().find(|(seen, _)| same_values(seen, used())) {
            return list.clone();
        }
        let list = Arc::new(self.allow_list(settings));
        if memo.len() >= ALLOW_MEMO {
            memo.remove(0);
        }
        memo.push((
            used().map(|v| v.map(str::to_string)).collect(),
            list.clone(),
        ));
        list
    }

    /// Ask the plugin to turn a one-line URL into settings.
    pub async fn parse_url(&self, url: &str) -> Result<Vec<(String, String)>, String> {
        let prepared = self.prepared().await.map_err(|e| e.to_string())?;
        let host = self.rt.host("config", Arc::default(), Secrets::new());
        match invoke(&self.rt, prepared, host, Call::ParseUrl(url)).await {
            Ok(Answer::ParseUrl(r)) => r,
            Ok(_) => unreachable!("parse-url answers parse-url"),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Deliver `msg` with this channel instance's settings. `previous` is the
    /// remote id of the run's earlier message, for channels that edit.
    pub async fn send(
        &self,
        channel: &str,
        settings: &[SettingValue],
        msg: &Notification,
        previous: Option<String>,
    ) -> Result<Receipt, DeliveryError> {
        let progress = Arc::new(Progress::new(format!("{channel}-{}", unique_key()), 0));
        self.send_delivery(channel, settings, msg, previous, progress)
            .await
    }

    /// [`Plugin::send`] as one attempt of a delivery: `progress` carries its
    /// key and the parts earlier attempts sent in, and this attempt's out.
    pub async fn send_delivery(
        &self,
        channel: &str,
        settings: &[SettingValue],
        msg: &Notification,
        previous: Option<String>,
        progress: Arc<Progress>,
    ) -> Result<Receipt, DeliveryError> {
        self.attempt(channel, settings, progress, Attempt::Send(msg, previous))
            .await
    }

    /// One attempt of a delivery, a send or a question: the component's
    /// receipt with what it hands back masked.
    async fn attempt(
        &self,
        channel: &str,
        settings: &[SettingValue],
        progress: Arc<Progress>,
        what: Attempt<'_>,
    ) -> Result<Receipt, DeliveryError> {
        let Ready {
            prepared,
            args,
            host,
        } = self.ready(channel, settings, Some(progress)).await?;
        let call = match what {
            Attempt::Send(msg, previous) => Call::Send(&args, msg, previous),
            Attempt::Ask(q) => Call::Ask(&args, q),
        };
        let (answer, secrets) = invoke_keeping_secrets(&self.rt, prepared, host, call).await;
        let returned = returned(secrets);
        match answer {
            Ok(Answer::Send(result) | Answer::Ask(result)) => result,
            Ok(_) => unreachable!("a send or a question answers with a receipt"),
            Err(e) => Err(e),
        }
        .map(|r| Receipt {
            remote_id: r.remote_id.as_deref().map(&returned),
        })
        .map_err(|e| e.describe(&returned))
    }

    /// Whether this channel's recipients can answer questions in the chat
    /// (the component exports `replies`).
    pub fn can_reply(&self) -> bool {
        self.info.can_reply
    }

    /// Ask `q` as one attempt of a delivery, with the service's way to
    /// answer it (a plugin that [`Plugin::can_reply`] only).
    pub async fn ask_delivery(
        &self,
        channel: &str,
        settings: &[SettingValue],
        q: &ChatQuestion,
        progress: Arc<Progress>,
    ) -> Result<Receipt, DeliveryError> {
        self.attempt(channel, settings, progress, Attempt::Ask(q))
            .await
    }

    /// The answers given in the chat since `cursor` (a plugin that
    /// [`Plugin::can_reply`] only). Everything the component hands back is
    /// masked, as a send's error is.
    pub async fn poll_replies(
        &self,
        channel: &str,
        settings: &[SettingValue],
        cursor: Option<&str>,
    ) -> Result<Polled, DeliveryError> {
        let Ready {
            prepared,
            args,
            host,
        } = self.ready(channel, settings, None).await?;
        let call = Call::PollReplies(&args, cursor);
        let (answer, secrets) = invoke_keeping_secrets(&self.rt, prepared, host, call).await;
        let returned = returned(secrets);
        match answer {
            Ok(Answer::PollReplies(result)) => result,
            Ok(_) => unreachable!("poll-replies answers poll-replies"),
            Err(e) => Err(e),
        }
        .map(|p| Polled {
            replies: p
                .replies
                .into_iter()
                .map(|r| ChatReply {
                    ask_id: returned(&r.ask_id),
                    answer: returned(&r.answer),
                    choice: r.choice,
                    from: returned(&r.from),
                })
                .collect(),
            cursor: p.cursor.as_deref().map(&returned),
            ignored: p.ignored.iter().map(|i| returned(i)).collect(),
        })
        .map_err(|e| e.describe(&returned))
    }

    /// What a call with this channel instance's settings needs: the
    /// compiled component, the settings as the component sees them (secrets
    /// as placeholders) and the call's host state. `progress`: the delivery
    /// the call is an attempt of, if it is one.
    async fn ready(
        &self,
        channel: &str,
        settings: &[SettingValue],
        progress: Option<Arc<Progress>>,
    ) -> Result<Ready<'_>, DeliveryError> {
        let prepared = self.prepared().await?;
        let client = match super::proxy::of(settings).map_err(DeliveryError::Config)? {
            Some(proxy) => Some(self.rt.proxied(&proxy).map_err(DeliveryError::Config)?),
            None => None,
        };
        let mut secrets = Secrets::new();
        let mut args: Vec<(String, String)> = Vec::with_capacity(settings.len());
        for s in settings {
            // A `proxy` the plugin does not declare is the host's alone.
            if s.key == super::proxy::PROXY && self.info.setting(&s.key).is_none() {
                continue;
            }
            if s.secret {
                // The host, not the component, looks at the value: the
                // component gets what the plugin's shape declares.
                args.extend(self.shapes.apply(&s.key, &s.value, secrets.policy()));
            } else {
                args.push((s.key.clone(), s.value.clone()));
            }
        }
        let mut host = self
            .rt
            .host(channel, self.remembered_allow_list(settings), secrets);
        host.secrets.shapes = self.shapes.clone();
        host.delivery.progress = progress
            .unwrap_or_else(|| Arc::new(Progress::new(format!("{channel}-{}", unique_key()), 0)));
        host.cache.kept = self.kept(channel, settings);
        if let Some(client) = client {
            host.http.client = client;
        }
        Ok(Ready {
            prepared,
            args,
            host,
        })
    }
}

/// See [`Plugin::ready`].
/// What one attempt of a delivery asks of the component.
enum Attempt<'m> {
    Send(&'m Notification, Option<String>),
    Ask(&'m ChatQuestion),
}

struct Ready<'p> {
    prepared: &'p Arc<Prepared>,
    args: Vec<(String, String)>,
    host: HostState,
}

/// Masks and cuts what a component handed back, before anyone stores or
/// prints it. Errors are described with the secrets as the call left them,
/// which include the parts `secrets.split` made during it.
fn returned(secrets: Secrets) -> impl Fn(&str) -> String {
    move |text: &str| {
        let mut text = secrets.describe(text);
        cap_text(&mut text, MAX_RETURNED);
        text
    }
}

impl Plugin {
    /// The values `channel` with these settings keeps between sends.
    fn kept(&self, channel: &str, settings: &[SettingValue]) -> Arc<Kept> {
        use std::hash::{BuildHasher, Hash, Hasher};
        // Seeded once per process: the hash of settings that hold secrets
        // never leaves this map, and is not the same in two processes.
        static SEED: std::sync::OnceLock<std::collections::hash_map::RandomState> =
            std::sync::OnceLock::new();
        let mut h = SEED.get_or_init(Default::default).build_hasher();
        channel.hash(&mut h);
        for s in settings {
            (&s.key, &s.value).hash(&mut h);
        }
        let id = h.finish();
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, k)) = kept.iter().find(|(i, _)| *i == id) {
            return k.clone();
        }
        if kept.len() >= KEPT_INSTANCES {
            kept.remove(0);
        }
        let k = Arc::new(Kept::default());
        kept.push((id, k.clone()));
        k
    }
}

/// A key no other send in this or another process has: for a send that is
/// not one of a stored delivery's attempts.
fn unique_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}-{}-{n}", std::process::id())
}

impl Shared {
    /// The client for channels behind `proxy`, made once per proxy.
    fn proxied(&self, proxy: &str) -> Result<reqwest::Client, String> {
        let mut list = self.proxied.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = list.iter().find(|(p, _)| p == proxy) {
            return Ok(c.clone());
        }
        let bad = |e: reqwest::Error| format!("proxy: {}", e.without_url());
        let client = http_client()
            .proxy(reqwest::Proxy::all(proxy).map_err(bad)?)
            .build()
            .map_err(bad)?;
        list.push((proxy.to_string(), client.clone()));
        Ok(client)
    }

    /// The host state of one call, its deadline starting now.
    fn host(&self, channel: &str, allow: Arc<AllowList>, secrets: Secrets) -> HostState {
        HostState::new(&self.client, self.limits, channel, allow, secrets)
    }
}

/// One call in a fresh store. Whatever the guest does (trap, loop, grow memory
/// without end) ends here as a [`DeliveryError`].
async fn invoke(
    rt: &Shared,
    prepared: &Arc<Prepared>,
    host: HostState,
    call: Call<'_>,
) -> Result<Answer, DeliveryError> {
    invoke_keeping_secrets(rt, prepared, host, call).await.0
}

/// The value a `setting:KEY` allowed host takes its origin from: a setting
/// not marked secret, or a part of a secret's value its shape declares
/// public (`KEY.PART`, from `parts`).
fn setting_value<'s>(
    settings: &'s [SettingValue],
    parts: &'s [(String, String)],
    key: &str,
) -> Option<&'s str> {
    settings
        .iter()
        .find(|s| s.key == key && !s.secret)
        .map(|s| s.value.as_str())
        .or_else(|| {
            parts
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        })
}

/// [`invoke`], also handing back the call's secrets as it left them.
async fn invoke_keeping_secrets(
    rt: &Shared,
    prepared: &Arc<Prepared>,
    host: HostState,
    call: Call<'_>,
) -> (Result<Answer, DeliveryError>, Secrets) {
    let limits = host.call.limits;
    let permit = rt
        .permits
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    // Sends (and questions, and the polls for their answers, every 2 s
    // while one is open) keep a spare sandbox ready for the plugin's next
    // call; loading and parsing URLs do not (a start loads every plugin once).
    let refill = matches!(call, Call::Send(..) | Call::Ask(..) | Call::PollReplies(..))
        .then(|| Arc::downgrade(prepared));
    let deadline = host.call.deadline;
    let sandbox = prepared.sandbox(&rt.engine, &rt.stores, host);
    let mut store = sandbox.store;
    // Ticks counted from now, not from when a spare was made; the epoch
    // thread ticks until this call is over.
    let _running = rt.stores.deadlines.running();
    store.set_epoch_deadline(1);
    store.data_mut().begin_call();
    let instance = sandbox.instance;
    let slow = store.data().slow_flag();
    // The epoch callback stops a running guest at the deadline; this outer
    // one covers time spent in host calls (fetches), with a little slack so
    // that the guest's own interrupt is the usual way out of a busy loop.
    let deadlines = &rt.stores.deadlines;
    let outcome = {
        let run = std::pin::pin!(async {
            let instance = match instance {
                Some(instance) => instance,
                None => prepared.pre.instantiate(&mut store).await?,
            };
            wit::call(instance, &mut store, call).await
        });
        let run = OffTheWorkers { run, slow };
        deadlines
            .within(deadline + Duration::from_millis(250), run)
            .await
    };
    let answer = match outcome {
        Ok(Ok(answer)) => Ok(answer),
        // Whatever else happened, the shutdown cut-off ended it: the delivery
        // is not this call's to fail.
        _ if deadlines.cut_at().is_some_and(|cut| Instant::now() >= cut) => {
            Err(DeliveryError::Interrupted)
        }
        Err(_) => Err(DeliveryError::Timeout(limits.deadline)),
        Ok(Err(e)) => Err(match store.data().limiter.refused {
            Some(MemoryRefused::OwnCap) => DeliveryError::Crashed(format!(
                "it ran out of memory (limit {} MiB)",
                limits.memory_bytes >> 20
            )),
            // Retryable: the refusal says nothing about this plugin, and a good
            // send refused during a flood of greedy ones must get through later.
            Some(MemoryRefused::Budget) => DeliveryError::Unavailable(format!(
                "not enough plugin memory free in this process (the {} MiB budget \
                 is held by other sends); it will be tried again",
                rt.stores.budget.limit() >> 20
            )),
            None => classify(&e, &limits, &store.data().stderr),
        }),
    };
    let secrets = std::mem::take(&mut store.data_mut().host.call.secrets);
    // Tearing the store down (resetting its memory, returning its pool slot)
    // is the keeper's job, after the caller has its answer.
    rt.keeper.retire(store, permit, refill);
    (answer, secrets)
}

fn classify(
    e: &wasmtime::Error,
    limits: &Limits,
    stderr: &wasmtime_wasi::p2::pipe::MemoryOutputPipe,
) -> DeliveryError {
    if let Some(Trap::Interrupt) = e.downcast_ref::<Trap>() {
        return DeliveryError::Timeout(limits.deadline);
    }
    let mut why = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    // A Rust guest prints its panic message to stderr before it traps:
    // "thread '<unnamed>' panicked at src/lib.rs:7:9:\nMESSAGE\nnote: ...".
    let printed = String::from_utf8_lossy(&stderr.contents()).into_owned();
    let lines: Vec<&str> = printed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note:"))
        .collect();
    let said = match lines.iter().rposition(|l| l.contains("panicked at")) {
        Some(i) => lines[i..]
            .iter()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        None => lines.last().copied().unwrap_or_default().to_string(),
    };
    if !said.is_empty() {
        why = format!("{why} ({said})");
    }
    DeliveryError::Crashed(why)
}
