//! How raft messages travel between members: protobuf messages, each prefixed by its length
//! (4 bytes, big endian), several to one HTTP body. A streamed snapshot is one such message
//! (with empty data) followed by the raw snapshot file. A message stream (`POST /raft/stream`)
//! is an endless body of such frames, where a frame of length 0 is a keep-alive.

use bytes::{Buf, BytesMut};
use protobuf::Message as _;
use raft::eraftpb::Message;

/// Largest single encoded message accepted (an append batch is capped at 1 MiB by raft's
/// `max_size_per_msg`, plus one entry that may exceed it; client values are capped far lower).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Largest body of one batch.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Header naming the cluster a peer request belongs to (hex), as etcd does.
pub const CLUSTER_HEADER: &str = "x-etcd-cluster-id";

/// Header naming the sending member (hex raft id).
pub const FROM_HEADER: &str = "x-raft-from";
/// On a 410 answer: the raft index (decimal) of the conf change that removed the caller, so
/// it can check its own log for that removal before it believes it.
pub const REMOVED_AT_HEADER: &str = "x-etcd-removed-at";

/// Appends one length-prefixed message to `out`.
pub fn encode_into(msg: &Message, out: &mut Vec<u8>) {
    let bytes = msg
        .write_to_bytes()
        .expect("encoding a raft message into memory cannot fail");
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&bytes);
}

/// Encodes a batch.
pub fn encode_batch(msgs: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        encode_into(m, &mut out);
    }
    out
}

/// Reads one length-prefixed message from the front of `bytes`; returns it and how many bytes
/// it took, `Ok(None)` when `bytes` does not hold a whole message yet.
pub fn decode_one(bytes: &[u8]) -> Result<Option<(Message, usize)>, String> {
    let Some(len) = bytes.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
    if len > MAX_MESSAGE_BYTES {
        return Err(format!("raft message of {len} bytes is too large"));
    }
    let Some(body) = bytes.get(4..4 + len) else {
        return Ok(None);
    };
    let mut msg = Message::default();
    msg.merge_from_bytes(body)
        .map_err(|e| format!("bad raft message: {e}"))?;
    Ok(Some((msg, 4 + len)))
}

/// Decodes a whole batch body.
pub fn decode_batch(mut bytes: &[u8]) -> Result<Vec<Message>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        match decode_one(bytes)? {
            Some((m, used)) => {
                out.push(m);
                bytes = &bytes[used..];
            }
            None => return Err("truncated raft message batch".into()),
        }
    }
    Ok(out)
}

/// The keep-alive frame of a message stream: a length of 0 and no message.
pub const KEEPALIVE: [u8; 4] = [0; 4];

/// Reassembles the frames of a message stream from chunks cut anywhere.
#[derive(Default)]
pub struct FrameReader {
    pending: BytesMut,
}

impl FrameReader {
    /// Adds the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
    }

    /// The next whole message, skipping keep-alives; `Ok(None)` until more bytes come. At most
    /// one frame ([`MAX_MESSAGE_BYTES`]) and one chunk are ever buffered.
    pub fn next_message(&mut self) -> Result<Option<Message>, String> {
        loop {
            if self.pending.starts_with(&KEEPALIVE) {
                self.pending.advance(KEEPALIVE.len());
                continue;
            }
            return match decode_one(&self.pending)? {
                None => Ok(None),
                Some((m, used)) => {
                    self.pending.advance(used);
                    Ok(Some(m))
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::{Entry, MessageType};

    fn msg(to: u64, data: &[u8]) -> Message {
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgAppend);
        m.to = to;
        m.from = 1;
        m.mut_entries().push(Entry {
            data: data.to_vec().into(),
            ..Default::default()
        });
        m
    }

    #[test]
    fn batches_round_trip() {
        let batch = vec![msg(2, b"a"), msg(3, b"bcd"), msg(2, b"")];
        let bytes = encode_batch(&batch);
        assert_eq!(decode_batch(&bytes).unwrap(), batch);
        assert_eq!(decode_batch(&[]).unwrap(), vec![]);
    }

    #[test]
    fn a_stream_cut_anywhere_reassembles_its_messages() {
        let batch = vec![msg(2, b"a"), msg(2, &[7; 300]), msg(2, b"")];
        let mut bytes = KEEPALIVE.to_vec();
        bytes.extend(encode_batch(&batch[..2]));
        bytes.extend(KEEPALIVE);
        bytes.extend(KEEPALIVE);
        bytes.extend(encode_batch(&batch[2..]));
        for cut in [1, 3, 5, 64, bytes.len()] {
            let mut reader = FrameReader::default();
            let mut got = vec![];
            for chunk in bytes.chunks(cut) {
                reader.push(chunk);
                while let Some(m) = reader.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, batch, "chunks of {cut}");
            assert!(reader.pending.is_empty());
        }
        let mut reader = FrameReader::default();
        reader.push(&(MAX_MESSAGE_BYTES as u32 + 1).to_be_bytes());
        assert!(reader.next_message().is_err());
    }

    #[test]
    fn truncated_and_oversized_input_is_refused() {
        let bytes = encode_batch(&[msg(2, b"abc")]);
        assert!(decode_batch(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_one(&bytes[..3]).unwrap().is_none());
        let huge = (MAX_MESSAGE_BYTES as u32 + 1).to_be_bytes();
        assert!(decode_one(&huge).is_err());
        assert!(decode_batch(&[0, 0, 0, 2, 0xff, 0xff]).is_err());
    }
}
