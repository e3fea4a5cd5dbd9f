//! Each channel's share of the send slots, and the breaker that pauses a
//! channel whose sends keep timing out. Pure: the worker passes the time in.
//!
//! Without it, 500 notifications to a looping plugin and a good one held all
//! 64 shared slots with looping sends for 15 s each, and the last good
//! delivery went out 142 s after the flood.

use crate::notification::ChannelId;
use crate::store::{Room, UnixMillis};
use std::collections::HashMap;
use std::time::Duration;

/// Whether a claimed delivery may be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Admit {
    Send,
    /// The channel has its share of the slots in flight: try again shortly.
    Busy,
    /// The channel is paused after `timeouts` sends in a row timed out.
    Paused {
        until: UnixMillis,
        timeouts: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FairRules {
    /// Sends one channel may have in flight.
    pub per_channel: usize,
    /// Timeouts in a row that pause a channel.
    pub pause_after: u32,
    /// How long a pause lasts; then one send at a time probes the channel.
    pub pause_for: Duration,
}

impl FairRules {
    /// The slots split among the channels configured, up to four of them
    /// (at least 4 each): whatever one channel does, up to three others
    /// always find room, and a hub with one channel lets it use every slot
    /// (held to a quarter, 64 callers to the one channel of a hub had 16
    /// sends in flight, and `serve` delivered 5,000 a second instead of 7,000).
    pub fn for_slots(slots: usize, channels: usize) -> Self {
        FairRules {
            per_channel: (slots / channels.clamp(1, 4)).max(4),
            pause_after: 3,
            pause_for: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Default)]
struct ChannelState {
    in_flight: usize,
    /// Sends in a row that timed out.
    timeouts: u32,
    /// Set when paused; past it, the channel is on probation (one send at a
    /// time) until a send ends without timing out.
    paused_until: Option<UnixMillis>,
}

#[derive(Debug)]
pub(super) struct Fairness {
    rules: FairRules,
    channels: HashMap<ChannelId, ChannelState>,
}

impl Fairness {
    pub fn new(rules: FairRules) -> Self {
        Fairness {
            rules,
            channels: HashMap::new(),
        }
    }

    /// New rules (the channels were reloaded). Sends in flight past a
    /// smaller share finish; the channel gets no more until it is within it.
    pub fn set_rules(&mut self, rules: FairRules) {
        self.rules = rules;
    }

    /// Whether a send to `channel` may start at `now`; a started one counts
    /// as in flight until [`Fairness::finished`].
    pub fn admit(&mut self, channel: &ChannelId, now: UnixMillis) -> Admit {
        let state = self.channels.entry(channel.clone()).or_default();
        let limit = match state.paused_until {
            Some(until) if now < until => {
                return Admit::Paused {
                    until,
                    timeouts: state.timeouts,
                };
            }
            Some(_) => 1,
            None => self.rules.per_channel,
        };
        if state.in_flight >= limit {
            return Admit::Busy;
        }
        state.in_flight += 1;
        Admit::Send
    }

    /// What one claim may take of each channel's rows at `now`: what its
    /// share leaves. A paused channel is not bounded: its rows are claimed
    /// to be given back with the reason they wait.
    pub fn room(&self, now: UnixMillis) -> Room {
        let channels = self
            .channels
            .iter()
            .filter_map(|(id, s)| {
                let limit = match s.paused_until {
                    Some(until) if now < until => return None,
                    Some(_) => 1,
                    None => self.rules.per_channel,
                };
                Some((id.clone(), limit.saturating_sub(s.in_flight)))
            })
            .collect();
        Room {
            per_channel: Some(self.rules.per_channel),
            channels,
        }
    }

    /// A send admitted before ended; `timed_out` says whether it ran out of
    /// time. Returns the end of a pause it started, if it did.
    pub fn finished(
        &mut self,
        channel: &ChannelId,
        timed_out: bool,
        now: UnixMillis,
    ) -> Option<UnixMillis> {
        let rules = self.rules;
        let state = self.channels.entry(channel.clone()).or_default();
        state.in_flight = state.in_flight.saturating_sub(1);
        if !timed_out {
            state.timeouts = 0;
            state.paused_until = None;
        } else {
            state.timeouts += 1;
            let paused = state.paused_until.is_some_and(|until| now < until);
            if state.timeouts >= rules.pause_after && !paused {
                let until = now.plus(rules.pause_for);
                state.paused_until = Some(until);
                return Some(until);
            }
        }
        if state.in_flight == 0 && state.timeouts == 0 {
            self.channels.remove(channel);
        }
        None
    }

    /// A send admitted before that did not happen (cut short by shutdown):
    /// it says nothing about the channel.
    pub fn abandoned(&mut self, channel: &ChannelId) {
        if let Some(state) = self.channels.get_mut(channel) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(name: &str) -> ChannelId {
        ChannelId::new(name).unwrap()
    }

    fn rules() -> FairRules {
        FairRules {
            per_channel: 2,
            pause_after: 3,
            pause_for: Duration::from_secs(60),
        }
    }

    #[test]
    fn one_channel_holds_at_most_its_share() {
        let mut f = Fairness::new(rules());
        let (bad, good, t) = (ch("bad"), ch("good"), UnixMillis(0));
        assert_eq!(f.admit(&bad, t), Admit::Send);
        assert_eq!(f.admit(&bad, t), Admit::Send);
        assert_eq!(f.admit(&bad, t), Admit::Busy);
        assert_eq!(f.admit(&good, t), Admit::Send, "others still get slots");
        f.finished(&bad, false, t);
        assert_eq!(f.admit(&bad, t), Admit::Send);
        let share = |slots, channels| FairRules::for_slots(slots, channels).per_channel;
        assert_eq!(share(64, 1), 64, "alone, a channel has every slot");
        assert_eq!(share(64, 2), 32);
        assert_eq!(share(64, 4), 16);
        assert_eq!(share(64, 30), 16, "a quarter however many there are");
        assert_eq!(share(8, 4), 4);
        assert_eq!(share(8, 0), 8);
    }

    #[test]
    fn a_claim_has_room_for_what_each_share_leaves() {
        let mut f = Fairness::new(rules());
        let (busy, full, t) = (ch("busy"), ch("full"), UnixMillis(0));
        f.admit(&busy, t);
        f.admit(&full, t);
        f.admit(&full, t);
        let room = f.room(t);
        assert_eq!(room.of(&busy), Some(1));
        assert_eq!(room.of(&full), Some(0));
        assert_eq!(
            room.of(&ch("idle")),
            Some(2),
            "a channel with nothing in flight"
        );
    }

    #[test]
    fn timeouts_in_a_row_pause_a_channel_then_one_send_probes_it() {
        let mut f = Fairness::new(FairRules {
            per_channel: 4,
            ..rules()
        });
        let bad = ch("bad");
        let t = UnixMillis(1_000);
        for _ in 0..4 {
            assert_eq!(f.admit(&bad, t), Admit::Send);
        }
        assert_eq!(f.finished(&bad, true, t), None);
        assert_eq!(f.finished(&bad, true, t), None);
        let until = f.finished(&bad, true, t).expect("the third timeout pauses");
        assert_eq!(until, UnixMillis(61_000));
        assert_eq!(f.finished(&bad, true, t), None, "already paused");
        assert_eq!(
            f.admit(&bad, UnixMillis(60_999)),
            Admit::Paused { until, timeouts: 4 }
        );
        // After the pause: one at a time.
        let later = UnixMillis(61_000);
        assert_eq!(f.admit(&bad, later), Admit::Send);
        assert_eq!(f.admit(&bad, later), Admit::Busy);
        // The probe times out: paused again.
        let again = f.finished(&bad, true, later).expect("paused again");
        assert_eq!(again, UnixMillis(121_000));
        // A probe that does not time out closes the breaker.
        assert_eq!(f.admit(&bad, again), Admit::Send);
        assert_eq!(f.finished(&bad, false, again), None);
        for _ in 0..4 {
            assert_eq!(f.admit(&bad, again), Admit::Send);
        }
    }

    #[test]
    fn a_success_between_timeouts_resets_the_count() {
        let mut f = Fairness::new(rules());
        let bad = ch("bad");
        let t = UnixMillis(0);
        for timed_out in [true, true, false, true, true] {
            assert_eq!(f.admit(&bad, t), Admit::Send);
            assert_eq!(f.finished(&bad, timed_out, t), None);
        }
        f.admit(&bad, t);
        f.abandoned(&bad);
        assert_eq!(f.admit(&bad, t), Admit::Send);
    }
}
