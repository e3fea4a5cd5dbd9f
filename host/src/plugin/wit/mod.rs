//! Every version of `mcp-push:channel` the host speaks, and the one place
//! that dispatches on it: which version a component was built for (its
//! exports), the linker's imports for each version, a component's entry
//! points (`Bindings`, `Instance`) and a call into it in the host's own terms
//! (`Call`, `Answer`). Everything else in `plugin` works on host types.
//!
//! One module per version, as Zed's extension host does; the newest is
//! `latest`, and an older version's imports convert and delegate to the
//! capabilities (written for the newest), never the reverse.

pub(crate) mod v0_1;

pub(crate) use v0_1 as latest;

use super::error::{DeliveryError, LoadError};
use super::info::PluginInfo;
use super::sandbox::SendState;
use super::types::{ChatQuestion, Polled, Receipt};
use crate::notification::Notification;
use mcp_push_policy::Shapes;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store};

/// The WIT package version of the newest bindings.
pub const WIT_VERSION: &str = latest::WIT_VERSION;

/// Adds the imports of every version the host speaks (their names differ
/// by version, so they coexist in one linker).
pub(crate) fn add_to_linker(linker: &mut Linker<SendState>) -> wasmtime::Result<()> {
    v0_1::add_to_linker(linker)
}

/// The WIT package version the component's `channel` export was built for.
pub(crate) fn check_exports(engine: &Engine, component: &Component) -> Result<String, LoadError> {
    let ty = component.component_type();
    let mut found = None;
    for (name, _) in ty.exports(engine) {
        if let Some(version) = name.strip_prefix(v0_1::EXPORT_PREFIX) {
            if v0_1::supports(version) {
                return Ok(version.to_string());
            }
            found = Some(format!("mcp-push:channel@{version}"));
        }
    }
    Err(match found {
        Some(found) => LoadError::WrongVersion { found },
        None => LoadError::MissingExport,
    })
}

/// A component's entry points, by the version of `mcp-push:channel` it was
/// built for. When 0.2 comes it adds a variant beside this one, so that 0.1
/// components keep loading.
pub(crate) enum Bindings {
    /// Any 0.1.x: wasmtime matches 0.1.x names to the host's 0.1.0 by semver.
    /// `shapes` and `replies` are optional exports.
    V0_1 {
        pre: InstancePre<SendState>,
        channel: v0_1::ChannelIndices,
        shapes: Option<v0_1::ShapesIndices>,
        replies: Option<v0_1::RepliesIndices>,
    },
}

/// A component instantiated in a store, by the version it was built for.
pub(crate) enum Instance {
    V0_1 {
        channel: v0_1::Channel,
        shapes: Option<v0_1::ShapesExport>,
        replies: Option<v0_1::RepliesExport>,
    },
}

impl Bindings {
    pub(crate) fn new(version: &str, pre: InstancePre<SendState>) -> Result<Self, LoadError> {
        let invalid = |e: wasmtime::Error| LoadError::Invalid(format!("{e:#}"));
        if v0_1::supports(version) {
            return Ok(Bindings::V0_1 {
                channel: v0_1::ChannelIndices::new(&pre).map_err(invalid)?,
                shapes: v0_1::ShapesIndices::new(&pre).ok(),
                replies: v0_1::RepliesIndices::new(&pre).ok(),
                pre,
            });
        }
        Err(LoadError::WrongVersion {
            found: format!("mcp-push:channel@{version}"),
        })
    }

    pub(crate) async fn instantiate(
        &self,
        store: &mut Store<SendState>,
    ) -> wasmtime::Result<Instance> {
        match self {
            Bindings::V0_1 {
                pre,
                channel,
                shapes,
                replies,
            } => {
                let instance = pre.instantiate_async(&mut *store).await?;
                Ok(Instance::V0_1 {
                    channel: channel.load(&mut *store, &instance)?,
                    shapes: match shapes {
                        Some(s) => Some(s.load(&mut *store, &instance)?),
                        None => None,
                    },
                    replies: match replies {
                        Some(r) => Some(r.load(&mut *store, &instance)?),
                        None => None,
                    },
                })
            }
        }
    }
}

/// A call into a plugin, in the host's terms.
pub(crate) enum Call<'a> {
    Info,
    ParseUrl(&'a str),
    Send(&'a [(String, String)], &'a Notification, Option<String>),
    /// A question, to a plugin that can be answered in the chat.
    Ask(&'a [(String, String)], &'a ChatQuestion),
    /// The answers given since the cursor.
    PollReplies(&'a [(String, String)], Option<&'a str>),
}

/// Its answer, in the host's terms (errors not yet described: see
/// [`DeliveryError::describe`]).
pub(crate) enum Answer {
    Info(Result<Box<(PluginInfo, Shapes)>, String>),
    ParseUrl(Result<Vec<(String, String)>, String>),
    Send(Result<Receipt, DeliveryError>),
    Ask(Result<Receipt, DeliveryError>),
    PollReplies(Result<Polled, DeliveryError>),
}

/// What a plugin without the `replies` export answers to `ask` and
/// `poll-replies` (the host asks only those that have it).
fn cannot_reply() -> DeliveryError {
    DeliveryError::Config("this plugin cannot be answered in the chat (no `replies` export)".into())
}

/// Makes `call` on `instance`, converting to and from its version's types.
pub(crate) async fn call(
    instance: Instance,
    store: &mut Store<SendState>,
    call: Call<'_>,
) -> wasmtime::Result<Answer> {
    Ok(match instance {
        Instance::V0_1 {
            channel: ch,
            shapes,
            replies,
        } => match call {
            Call::Info => {
                let info = ch.call_info(&mut *store).await?;
                let shapes = match shapes {
                    Some(s) => s.call_shapes(&mut *store).await?,
                    None => Vec::new(),
                };
                Answer::Info(v0_1::info(info, shapes, replies.is_some()).map(Box::new))
            }
            Call::Ask(args, q) => Answer::Ask(match &replies {
                Some(r) => r
                    .call_ask(&mut *store, args, &v0_1::question(q))
                    .await?
                    .map(|a| Receipt {
                        remote_id: a.remote_id,
                    })
                    .map_err(v0_1::send_error),
                None => Err(cannot_reply()),
            }),
            Call::PollReplies(args, cursor) => Answer::PollReplies(match &replies {
                Some(r) => r
                    .call_poll_replies(&mut *store, args, cursor)
                    .await?
                    .map(v0_1::polled)
                    .map_err(v0_1::send_error),
                None => Err(cannot_reply()),
            }),
            Call::ParseUrl(url) => Answer::ParseUrl(ch.call_parse_url(&mut *store, url).await?),
            Call::Send(args, msg, previous) => {
                let msg = v0_1::message(msg, previous);
                Answer::Send(
                    ch.call_send(&mut *store, args, &msg)
                        .await?
                        .map(|r| Receipt {
                            remote_id: r.remote_id,
                        })
                        .map_err(v0_1::send_error),
                )
            }
        },
    })
}
