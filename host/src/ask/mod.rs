//! Answers given in the chat app itself: while a question is open, a poller
//! asks each channel it went to whose plugin can be answered in the chat
//! (`Plugin::can_reply`) for the answers given since its last look, and
//! takes each as an answer from that channel's recipient
//! (`ops::asks::answer`). Sending the question with buttons is the delivery
//! worker's (`hub::worker`); answers through the reply link are `http`'s.
//! Where this stops: it decides nothing about an answer itself, beyond
//! whether the channel it came from was asked (`take`).

mod poller;

pub use poller::{POLL_EVERY, Poller, spawn_poller};
