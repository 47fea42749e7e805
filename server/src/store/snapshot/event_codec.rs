//! History events in format 3: every field an event carries, JSON's included.
//!
//! ```text
//! event: action (u8), refresh (u8: 0 or 1), index (varint), node, has-prev (u8), [prev node]
//! node:  flags (u8: 1 dir, 2 value, 4 prevValue, 8 expiration, 16 child list), key, [value],
//!        [prevValue], [expiration] (varint length + UTF-8 each), ttl (zigzag varint),
//!        modifiedIndex, createdIndex (varints), [child count (varint), children in order]
//! ```
//!
//! The store's events never list children, but the type can, so the encoding keeps them
//! (pre-order, explicit stacks both ways: a decoder never recurses on what it reads).

use std::io::{self, Read, Write};

use super::codec::{DecodeError, Input, Output};
use crate::store::event::{Action, Event};

const DIR: u8 = 1;
const VALUE: u8 = 2;
const PREV_VALUE: u8 = 4;
const EXPIRATION: u8 = 8;
const CHILDREN: u8 = 16;

const ACTIONS: [Action; 8] = [
    Action::Get,
    Action::Set,
    Action::Create,
    Action::Update,
    Action::CompareAndSwap,
    Action::Delete,
    Action::CompareAndDelete,
    Action::Expire,
];

fn action_code(a: Action) -> u8 {
    ACTIONS
        .iter()
        .position(|x| *x == a)
        .expect("every action is listed") as u8
}

/// Writes one event.
pub fn write_event<W: Write>(out: &mut Output<'_, W>, ev: &Event) -> io::Result<()> {
    out.u8(action_code(ev.action))?;
    out.u8(u8::from(ev.refresh))?;
    out.varint(ev.index)?;
    write_node(out, &ev.node)?;
    match &ev.prev_node {
        Some(prev) => {
            out.u8(1)?;
            write_node(out, prev)
        }
        None => out.u8(0),
    }
}

fn write_fields<W: Write>(out: &mut Output<'_, W>, n: &common::Node) -> io::Result<()> {
    let mut flags = 0;
    for (set, flag) in [
        (n.dir, DIR),
        (n.value.is_some(), VALUE),
        (n.prev_value.is_some(), PREV_VALUE),
        (n.expiration.is_some(), EXPIRATION),
        (n.nodes.is_some(), CHILDREN),
    ] {
        if set {
            flags |= flag;
        }
    }
    out.u8(flags)?;
    out.bytes(n.key.as_bytes())?;
    for s in [&n.value, &n.prev_value, &n.expiration]
        .into_iter()
        .flatten()
    {
        out.bytes(s.as_bytes())?;
    }
    out.signed(n.ttl)?;
    out.varint(n.modified_index)?;
    out.varint(n.created_index)?;
    if let Some(children) = &n.nodes {
        out.varint(children.len() as u64)?;
    }
    Ok(())
}

fn write_node<W: Write>(out: &mut Output<'_, W>, n: &common::Node) -> io::Result<()> {
    write_fields(out, n)?;
    let mut stack = Vec::new();
    if let Some(children) = &n.nodes {
        stack.push(children.iter());
    }
    while let Some(top) = stack.last_mut() {
        let Some(child) = top.next() else {
            stack.pop();
            continue;
        };
        write_fields(out, child)?;
        if let Some(children) = &child.nodes {
            stack.push(children.iter());
        }
    }
    Ok(())
}

/// Reads one event.
pub fn read_event<R: Read>(input: &mut Input<R>) -> Result<Event, DecodeError> {
    let code = input.u8("event action")?;
    let action = *ACTIONS
        .get(usize::from(code))
        .ok_or_else(|| input.malformed("unknown event action"))?;
    let refresh = match input.u8("event refresh")? {
        0 => false,
        1 => true,
        _ => return Err(input.malformed("bad event refresh")),
    };
    let index = input.varint("event index")?;
    let node = read_node(input)?;
    let prev_node = match input.u8("event prev node")? {
        0 => None,
        1 => Some(read_node(input)?),
        _ => return Err(input.malformed("bad event prev node")),
    };
    Ok(Event {
        action,
        node,
        prev_node,
        index,
        refresh,
        rendered: Default::default(),
    })
}

fn read_opt<R: Read>(
    input: &mut Input<R>,
    flags: u8,
    flag: u8,
    what: &str,
) -> Result<Option<String>, DecodeError> {
    if flags & flag == 0 {
        return Ok(None);
    }
    Ok(Some(input.str(what)?.to_owned()))
}

/// A node's own fields, and its child count if it lists children.
fn read_fields<R: Read>(input: &mut Input<R>) -> Result<(common::Node, Option<u64>), DecodeError> {
    let flags = input.u8("event node flags")?;
    if flags & !(DIR | VALUE | PREV_VALUE | EXPIRATION | CHILDREN) != 0 {
        return Err(input.malformed("unknown event node flags"));
    }
    let key = input.str("event key")?.to_owned();
    let value = read_opt(input, flags, VALUE, "event value")?;
    let prev_value = read_opt(input, flags, PREV_VALUE, "event prevValue")?;
    let expiration = read_opt(input, flags, EXPIRATION, "event expiration")?;
    let ttl = input.signed("event ttl")?;
    let modified_index = input.varint("event modifiedIndex")?;
    let created_index = input.varint("event createdIndex")?;
    let children = if flags & CHILDREN != 0 {
        Some(input.varint("event child count")?)
    } else {
        None
    };
    let node = common::Node {
        key,
        value,
        prev_value,
        dir: flags & DIR != 0,
        expiration,
        ttl,
        nodes: None,
        modified_index,
        created_index,
    };
    Ok((node, children))
}

fn read_node<R: Read>(input: &mut Input<R>) -> Result<common::Node, DecodeError> {
    let (node, count) = read_fields(input)?;
    let Some(count) = count else {
        return Ok(node);
    };
    // (node, children still to read, children read)
    let mut stack = vec![(node, count, Vec::new())];
    loop {
        let top = stack
            .last_mut()
            .expect("the event's node is open until it closes");
        if top.1 == 0 {
            let (mut done, _, children) = stack.pop().expect("checked above");
            done.nodes = Some(children);
            match stack.last_mut() {
                Some(parent) => parent.2.push(done),
                None => return Ok(done),
            }
            continue;
        }
        top.1 -= 1;
        let (child, count) = read_fields(input)?;
        match count {
            Some(count) => stack.push((child, count, Vec::new())),
            None => stack.last_mut().expect("checked above").2.push(child),
        }
    }
}
