//! Packet captures (pcap and pcapng, read with the `pcap-file` crate).
//! Only Ethernet captures are accepted: that is what XDP and socket-buffer
//! programs see.

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use std::io::Read;

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapPacket {
    /// Capture time, nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    pub data: Vec<u8>,
}

/// Most packets read from one file (a limit named in its message).
pub const MAX_PACKETS: usize = 10_000_000;

/// Reads every packet of a pcap or pcapng capture; `name` is used in
/// messages.
pub fn read_pcap(name: &str, bytes: &[u8]) -> Result<Vec<PcapPacket>, String> {
    let bad = |e: pcap_file::PcapError| format!("{name}: not a readable capture: {e}");
    let mut out = Vec::new();
    let push = |out: &mut Vec<PcapPacket>, ts: std::time::Duration, data: &[u8]| {
        if out.len() >= MAX_PACKETS {
            return Err(format!("{name}: more than {MAX_PACKETS} packets"));
        }
        out.push(PcapPacket {
            timestamp_ns: ts.as_nanos() as u64,
            data: data.to_vec(),
        });
        Ok(())
    };
    let ethernet = |link: DataLink| {
        if link == DataLink::ETHERNET {
            Ok(())
        } else {
            Err(format!(
                "{name}: the capture's link type is {link:?}; only Ethernet captures can be run"
            ))
        }
    };
    // pcapng files start with a section header block, 0x0a0d0d0a.
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(bytes).map_err(bad)?;
        while let Some(block) = r.next_block() {
            match block.map_err(bad)? {
                Block::InterfaceDescription(i) => ethernet(i.linktype)?,
                Block::EnhancedPacket(p) => push(&mut out, p.timestamp, &p.data)?,
                Block::SimplePacket(p) => push(&mut out, Default::default(), &p.data)?,
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(bytes).map_err(bad)?;
        ethernet(r.header().datalink)?;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(bad)?;
            push(&mut out, p.timestamp, &p.data)?;
        }
    }
    Ok(out)
}

/// Reads a capture file.
pub fn read_pcap_file(path: &std::path::Path) -> Result<Vec<PcapPacket>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    read_pcap(&path.display().to_string(), &bytes)
}
