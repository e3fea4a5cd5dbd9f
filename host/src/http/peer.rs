//! A connection's socket as the live stream needs it: how much it has
//! written that the client has not taken. A client that stops reading fills
//! its socket, and once the socket is full not even a close frame with the
//! reason gets through; the stream closes it while there is still room.
//! The one platform switch of the HTTP front end.

use std::os::fd::{AsRawFd, RawFd};

/// Carried in each request's extensions from the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    fd: RawFd,
}

/// Linux's `SIOCOUTQNSD`: bytes in the send queue not yet sent (in flight
/// bytes waiting for an acknowledgement are not counted, so a healthy client
/// on a slow link is not taken for a stalled one).
#[cfg(target_os = "linux")]
const SIOCOUTQNSD: libc::Ioctl = 0x894B;

impl Peer {
    pub fn of(stream: &impl AsRawFd) -> Peer {
        Peer {
            fd: stream.as_raw_fd(),
        }
    }

    /// Whether the socket holds more unsent bytes than a quarter of its send
    /// buffer: the client is not reading, and the buffer still has room for
    /// a close frame. `None` where the platform cannot tell.
    #[cfg(target_os = "linux")]
    pub fn stalled(&self) -> Option<(usize, usize)> {
        let mut unsent: libc::c_int = 0;
        let mut size: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: read-only queries of a socket with out-pointers to locals;
        // a descriptor that closed meanwhile only makes them fail.
        let ok = unsafe {
            libc::ioctl(self.fd, SIOCOUTQNSD, &mut unsent) == 0
                && libc::getsockopt(
                    self.fd,
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    (&mut size as *mut libc::c_int).cast(),
                    &mut len,
                ) == 0
        };
        let (unsent, size) = (unsent.max(0) as usize, size.max(0) as usize);
        (ok && unsent > size / 4).then_some((unsent, size))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn stalled(&self) -> Option<(usize, usize)> {
        None
    }
}
