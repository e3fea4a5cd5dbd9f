//! A message's priority on a service's own scale. Each service counts its
//! levels its own way (ntfy 1..5, Pushover -2..2, Gotify 0..10, Bark's named
//! levels); a channel names the four points of its scale once, low to urgent,
//! and reads the message's priority off it.

use crate::Priority;

impl Priority {
    /// This priority's point on `scale`, given as `[low, normal, high, urgent]`.
    ///
    /// ```
    /// use mcp_push_sdk::Priority;
    /// // ntfy: 1 (min) to 5 (max), 3 the default.
    /// assert_eq!(Priority::High.on(["2", "3", "4", "5"]), "4");
    /// ```
    pub fn on<T>(self, scale: [T; 4]) -> T {
        let [low, normal, high, urgent] = scale;
        match self {
            Priority::Low => low,
            Priority::Normal => normal,
            Priority::High => high,
            Priority::Urgent => urgent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_priority_takes_its_own_point() {
        let named = ["passive", "active", "timeSensitive", "critical"];
        let got: Vec<&str> = [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ]
        .into_iter()
        .map(|p| p.on(named))
        .collect();
        assert_eq!(got, named);
        // A scale may merge points (Pushover: high and urgent are both 1).
        assert_eq!(Priority::Urgent.on([-1, 0, 1, 1]), 1);
    }
}
