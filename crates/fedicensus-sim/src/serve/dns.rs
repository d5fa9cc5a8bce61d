//! The simulator's DNS server, and a minimal client for it.
//!
//! A crawler resolves names itself (that is where it refuses private addresses), so the simulator
//! answers DNS like the internet would: A records for names that resolve at the current simulated
//! time, NXDOMAIN for names that do not exist, private, loopback and link-local addresses for SSRF
//! bait. The answers come from [`World::resolve`]; this module only speaks the protocol, over UDP
//! and TCP on the same port.
//!
//! AAAA and every other type get an empty NOERROR answer for names that exist (the world is
//! IPv4-only), so resolvers that ask for both do not mistake a missing AAAA for a missing name.

use super::error::{Error, Result};
use super::CONTROL_HOST;
use crate::clock::SimClock;
use crate::world::{Resolution, World};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// TTL of every answer: short, because the world changes as the clock moves.
const TTL: u32 = 60;

/// How long a TCP DNS client may stay silent before we hang up.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// What the DNS server needs to answer.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    pub(crate) world: Arc<World>,
    pub(crate) clock: SimClock,
    /// The address the simulator's HTTP(S) listener is on (what live names resolve to).
    pub(crate) listen: IpAddr,
    /// Whether live names resolve to their hosting addresses ([`crate::hosting`]).
    pub(crate) hosting: bool,
}

impl Zone {
    fn resolve(&self, name: &str) -> Resolution {
        if name == CONTROL_HOST {
            return Resolution::Address(self.listen);
        }
        crate::hosting::resolve(
            &self.world,
            name,
            self.clock.now(),
            self.listen,
            self.hosting,
        )
    }

    /// The answer to one DNS message, or `None` when it is too broken to answer.
    pub(crate) fn answer(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let request = match Message::from_vec(packet) {
            Ok(request) => request,
            Err(_) if packet.len() >= 2 => {
                let id = u16::from_be_bytes([packet[0], packet[1]]);
                let reply = Message::error_msg(id, OpCode::Query, ResponseCode::FormErr);
                return reply.to_vec().ok();
            }
            Err(_) => return None,
        };
        if request.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
        reply.metadata.recursion_desired = request.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.metadata.authoritative = true;
        if request.edns.is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(1232);
            reply.set_edns(edns);
        }
        if request.metadata.op_code != OpCode::Query || request.queries.len() != 1 {
            reply.metadata.response_code = ResponseCode::NotImp;
            return reply.to_vec().ok();
        }
        let query = request.queries[0].clone();
        let name = query.name().to_ascii().to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        reply.add_query(query.clone());
        match (self.resolve(name), query.query_type()) {
            (Resolution::NoSuchDomain, _) => {
                reply.metadata.response_code = ResponseCode::NXDomain;
            }
            (Resolution::Address(IpAddr::V4(ip)), RecordType::A | RecordType::ANY) => {
                reply.add_answer(Record::from_rdata(
                    query.name().clone(),
                    TTL,
                    RData::A(A(ip)),
                ));
            }
            (Resolution::Address(IpAddr::V6(ip)), RecordType::AAAA | RecordType::ANY) => {
                reply.add_answer(Record::from_rdata(
                    query.name().clone(),
                    TTL,
                    RData::AAAA(AAAA(ip)),
                ));
            }
            // The name exists but has no record of this type.
            (Resolution::Address(_), _) => {}
        }
        reply.to_vec().ok()
    }
}

/// Serves DNS over UDP on `udp` and TCP on `tcp` until `cancel` fires.
pub(crate) fn spawn(
    zone: Zone,
    udp: UdpSocket,
    tcp: TcpListener,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) {
    let udp_zone = zone.clone();
    let udp_cancel = cancel.clone();
    tracker.spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let (len, from) = tokio::select! {
                _ = udp_cancel.cancelled() => break,
                received = udp.recv_from(&mut buf) => match received {
                    Ok(received) => received,
                    Err(error) => {
                        // ICMP errors from earlier replies surface here on Linux; keep serving.
                        tracing::debug!(%error, "DNS UDP receive error");
                        continue;
                    }
                },
            };
            if let Some(reply) = udp_zone.answer(&buf[..len]) {
                if let Err(error) = udp.send_to(&reply, from).await {
                    tracing::debug!(%error, %from, "DNS UDP send error");
                }
            }
        }
    });
    let tcp_tracker = tracker.clone();
    tracker.spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                _ = cancel.cancelled() => break,
                accepted = tcp.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "DNS TCP accept error");
                        continue;
                    }
                },
            };
            let zone = zone.clone();
            let cancel = cancel.clone();
            tcp_tracker.spawn(async move {
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = serve_tcp(zone, stream) => {}
                }
            });
        }
    });
}

/// Answers length-prefixed DNS messages on one TCP connection until it closes or idles.
async fn serve_tcp(zone: Zone, mut stream: TcpStream) {
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut packet = vec![0u8; u16::from_be_bytes(len) as usize];
        match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut packet)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(reply) = zone.answer(&packet) else {
            return;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// What a DNS server said about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The addresses of the asked type (possibly none: the name exists without such records).
    Addresses(Vec<IpAddr>),
    /// NXDOMAIN.
    NoSuchDomain,
    /// Any other response code.
    Failed(String),
}

/// Asks the DNS server at `server` over UDP for the A (or, with `ipv6`, AAAA) records of `name`.
///
/// A minimal stub client, for tests and the benchmark: one query, one answer, no retries, no
/// search domains. Crawlers use their own resolver, pointed at [`RunningSim::dns_addr`].
///
/// [`RunningSim::dns_addr`]: super::RunningSim::dns_addr
pub async fn query(
    server: SocketAddr,
    name: &str,
    ipv6: bool,
    timeout: Duration,
) -> Result<Answer> {
    let fqdn = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| Error::Dns(format!("bad name {name:?}: {e}")))?;
    let record_type = if ipv6 {
        RecordType::AAAA
    } else {
        RecordType::A
    };
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(fqdn, record_type));
    let id = message.metadata.id;
    let packet = message
        .to_vec()
        .map_err(|e| Error::Dns(format!("cannot encode a query: {e}")))?;
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(bind)
        .await
        .map_err(|e| Error::Dns(format!("cannot open a UDP socket: {e}")))?;
    socket
        .connect(server)
        .await
        .map_err(|e| Error::Dns(format!("cannot reach {server}: {e}")))?;
    let exchange = async {
        socket.send(&packet).await?;
        let mut buf = vec![0u8; 4096];
        loop {
            let len = socket.recv(&mut buf).await?;
            if let Ok(reply) = Message::from_vec(&buf[..len]) {
                if reply.metadata.id == id {
                    return Ok::<Message, std::io::Error>(reply);
                }
            }
        }
    };
    let reply = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| Error::Dns(format!("no answer from {server} for {name} in {timeout:?}")))?
        .map_err(|e| Error::Dns(format!("query to {server} failed: {e}")))?;
    Ok(match reply.metadata.response_code {
        ResponseCode::NoError => Answer::Addresses(
            reply
                .answers
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })
                .collect(),
        ),
        ResponseCode::NXDomain => Answer::NoSuchDomain,
        other => Answer::Failed(other.to_string()),
    })
}
