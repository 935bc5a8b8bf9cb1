//! Which channel carries which topic: pure. New topics fill the channels that have room, in order,
//! then open new ones of up to [`TOPICS_PER_CHANNEL`], never more channels than the budget.

/// Genesys's limit of topics per channel.
pub const TOPICS_PER_CHANNEL: usize = 1000;

/// Where new topics go.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// `(index of an existing channel, the topics it takes)`.
    pub fill: Vec<(usize, Vec<String>)>,
    /// The topics of each new channel.
    pub open: Vec<Vec<String>>,
}

/// Places `topics` (new ones, no repeats) beside channels holding `loads` topics each, within
/// `budget` channels; `Err(channels needed)` when they do not fit.
///
/// ```
/// use genesys_tenants_core::notifications::packing::plan;
/// let topics: Vec<String> = (0..1500).map(|i| format!("v2.users.{i}.presence")).collect();
/// let p = plan(&[], &topics, 5).unwrap();
/// assert_eq!(p.open.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 500]);
/// let p = plan(&[990], &topics[..20], 5).unwrap();
/// assert_eq!((p.fill[0].1.len(), p.open[0].len()), (10, 10));
/// assert_eq!(plan(&[], &topics, 1), Err(2));
/// ```
pub fn plan(loads: &[usize], topics: &[String], budget: usize) -> Result<Plan, usize> {
    let mut rest = topics;
    let mut out = Plan::default();
    for (i, load) in loads.iter().enumerate() {
        let room = TOPICS_PER_CHANNEL.saturating_sub(*load).min(rest.len());
        if room > 0 {
            out.fill.push((i, rest[..room].to_vec()));
            rest = &rest[room..];
        }
    }
    for chunk in rest.chunks(TOPICS_PER_CHANNEL) {
        out.open.push(chunk.to_vec());
    }
    let needed = loads.len() + out.open.len();
    if needed > budget {
        return Err(needed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_fits_and_the_budget() {
        let t: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
        let p = plan(&[], &t, 3).unwrap();
        assert_eq!(p.open.len(), 3);
        assert!(p.fill.is_empty());
        assert_eq!(plan(&[1000], &t[..1], 1), Err(2));
        assert_eq!(plan(&[1000, 999], &t[..1], 2).unwrap().fill, vec![(1, vec!["0".to_string()])]);
        assert_eq!(plan(&[5], &[], 1).unwrap(), Plan::default());
    }
}
