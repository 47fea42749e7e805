//! The terms of the most recent log entries, kept in memory. raft asks a log entry's term
//! constantly (for every append it sends, the index before it; for every append it takes, the
//! same; for every commit check, the committed entry's), nearly always of an entry written
//! moments ago; raft-engine answers from its files, reading and decoding the block that holds
//! the entry each time (2% of the CPU of three members under writes). Every write to the log
//! goes through `RaftStorage`, which tells this cache, so it is never stale: an append that
//! overwrites a tail drops the cached terms from its first index on, and a log replaced by a
//! snapshot drops them all. Lookups outside it fall back to raft-engine.

use std::collections::VecDeque;

use raft::eraftpb::Entry;

/// Terms kept: more than raft's window of entries in flight to a follower (256 messages).
const KEEP: usize = 16 * 1024;

/// Terms of a contiguous run of recent entries.
#[derive(Debug, Default)]
pub struct RecentTerms {
    /// Index of the first term kept.
    first: u64,
    terms: VecDeque<u64>,
}

impl RecentTerms {
    /// `entries` were appended to the log (replacing any from the first one's index on).
    pub fn appended(&mut self, entries: &[Entry]) {
        let Some(head) = entries.first() else {
            return;
        };
        let end = self.first + self.terms.len() as u64;
        if self.terms.is_empty() || head.index < self.first || head.index > end {
            self.first = head.index;
            self.terms.clear();
        } else {
            self.terms.truncate((head.index - self.first) as usize);
        }
        for (offset, e) in entries.iter().enumerate() {
            if e.index != head.index + offset as u64 {
                // Not contiguous (raft never appends so): keep nothing rather than guess.
                self.clear();
                return;
            }
            self.terms.push_back(e.term);
        }
        while self.terms.len() > KEEP {
            self.terms.pop_front();
            self.first += 1;
        }
    }

    /// The log was replaced (a snapshot installed): nothing kept holds.
    pub fn clear(&mut self) {
        self.terms.clear();
        self.first = 0;
    }

    /// The term of entry `index`, if kept.
    pub fn get(&self, index: u64) -> Option<u64> {
        let offset = index.checked_sub(self.first)?;
        self.terms.get(usize::try_from(offset).ok()?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(first: u64, terms: &[u64]) -> Vec<Entry> {
        terms
            .iter()
            .enumerate()
            .map(|(i, t)| Entry {
                index: first + i as u64,
                term: *t,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn appends_extend_overwrite_and_forget() {
        let mut t = RecentTerms::default();
        assert_eq!(t.get(1), None);
        t.appended(&entries(5, &[1, 1, 2]));
        assert_eq!(
            (t.get(4), t.get(5), t.get(7), t.get(8)),
            (None, Some(1), Some(2), None)
        );
        t.appended(&entries(8, &[2, 2]));
        assert_eq!(t.get(9), Some(2));
        // A new leader overwrites the tail from 7 on.
        t.appended(&entries(7, &[3]));
        assert_eq!(
            (t.get(6), t.get(7), t.get(8), t.get(9)),
            (Some(1), Some(3), None, None)
        );
        // A gap (after a snapshot, say) starts over.
        t.appended(&entries(20, &[4]));
        assert_eq!((t.get(6), t.get(20)), (None, Some(4)));
        // Before what is kept: starts over too.
        t.appended(&entries(2, &[1]));
        assert_eq!((t.get(2), t.get(20)), (Some(1), None));
        t.clear();
        assert_eq!(t.get(2), None);
    }

    #[test]
    fn only_the_newest_terms_are_kept() {
        let mut t = RecentTerms::default();
        let terms = vec![7; KEEP + 10];
        t.appended(&entries(1, &terms));
        assert_eq!(t.get(10), None);
        assert_eq!(t.get(11), Some(7));
        assert_eq!(t.get(KEEP as u64 + 10), Some(7));
        assert_eq!(t.get(KEEP as u64 + 11), None);
    }
}
