//! Stands in for nothing: picks free loopback ports for the processes tests start.
//!
//! A port is found by binding `127.0.0.1:0`, reading the port the kernel chose and
//! closing the socket again. Another process may take it before ours binds it; starters
//! in this crate retry on "address already in use".

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// When the kernel refuses to hand out a port at all.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0 to find a free port: {e}"))
}

/// A port on 127.0.0.1 free for both TCP and UDP, as Alertmanager's gossip (memberlist)
/// listens on both.
///
/// # Panics
/// When no such port turns up in 100 tries.
pub fn free_tcp_udp_port() -> u16 {
    for _ in 0..100 {
        let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else { continue };
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, addr.port())).is_ok() {
            return addr.port();
        }
    }
    panic!("no port on 127.0.0.1 was free for both TCP and UDP in 100 tries")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_bindable() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("free TCP port binds");
        let port = free_tcp_udp_port();
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("free TCP port binds");
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).expect("free UDP port binds");
    }
}
