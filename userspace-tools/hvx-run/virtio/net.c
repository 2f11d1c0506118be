// SPDX-License-Identifier: GPL-2.0
/* virtio/net.c - virtio network devices (-n tap=NAME[,mac=..]) on host tap interfaces. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "migration/state.h"
#include "virtio.h"

#define VIRTIO_ID_NET		1

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM	0	/* the device completes checksums */
#define VIRTIO_NET_F_GUEST_CSUM	1	/* the driver does */
#define VIRTIO_NET_F_MTU	3
#define VIRTIO_NET_F_GUEST_TSO4	7	/* the driver takes TCP segments to 64 KiB */
#define VIRTIO_NET_F_GUEST_TSO6	8
#define VIRTIO_NET_F_HOST_TSO4	11	/* the device takes them */
#define VIRTIO_NET_F_HOST_TSO6	12
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_MRG_RXBUF	15
#define VIRTIO_NET_F_STATUS	16
#define VIRTIO_NET_S_LINK_UP	1

#define RXQ		0
#define TXQ		1
/*
 * struct virtio_net_hdr_mrg_rxbuf: with VIRTIO_F_VERSION_1 every packet
 * carries all 12 bytes, mergeable buffers or not.  It is also what the tap
 * speaks with IFF_VNET_HDR and a header size of 12: checksum and
 * segmentation offloads pass between guest and host kernel as they are,
 * the tap doing (or asking the host's stack for) what either side left
 * undone.  The tap does not write num_buffers (at byte 10); we do.
 */
#define HDR_LEN		12
#define HDR_FLAGS	0
#define HDR_GSO_TYPE	1
#define HDR_NUM_BUFFERS	10
#define HDR_F_NEEDS_CSUM	1
#define HDR_GSO_NONE		0
#define MTU		1500
/* A TCP segment of up to 64 KiB with its Ethernet header. */
#define MAX_FRAME	(65535 + 14)

struct vnet {
	struct virtio_dev vdev;
	char ifname[IFNAMSIZ];
	int tap_fd;
	uint8_t mac[6];
	char name[16];
	struct virtq_elem elem;		/* the chain in hand, on the device thread */
	struct iovec frame[VIRTQ_MAX_IOV];
	/* A packet read from the tap (header, frame) that waits for receive buffers. */
	uint8_t rx_packet[HDR_LEN + MAX_FRAME + 1];
	size_t rx_len;			/* header included; 0: none waiting */
	uint64_t tap_offloads;		/* guest_features the tap was set up for */
	bool tap_offloads_set;
	bool multi_queue;		/* the tap is; its queue can be detached */
	uint64_t rx_dropped, tx_dropped;
	bool tx_error_told;		/* the first failed tap write is reported */
};

/* -vv: one line per frame, as tcpdump -e would start it. */
static void log_frame(struct vnet *n, const char *dir, const struct iovec *iov, int k, size_t len)
{
	uint8_t h[14];

	if (verbose < 2 || iov_to_buf(iov, k, 0, h, sizeof(h)) < sizeof(h))
		return;
	vlog("%s: %s %zu bytes %02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x type 0x%04x",
	     n->name, dir, len, h[6], h[7], h[8], h[9], h[10], h[11], h[0], h[1], h[2], h[3],
	     h[4], h[5], h[12] << 8 | h[13]);
}

static struct vnet nics[MAX_NICS];
static int nr_nics;

/* "52:54:00:12:34:56": six hex bytes; false if malformed or multicast. */
static bool parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return !(mac[0] & 1);
}

/*
 * -n tap=NAME[,mac=XX:XX:XX:XX:XX:XX]: the tap is opened (created if it
 * does not exist, and gone again when hvx-run exits) while parsing, so a
 * bad one is a usage error.  Bringing it up and addressing it is the
 * host's business, as with QEMU's script=no.
 */
const char *virtio_net_parse(const char *arg)
{
	static char why[256];
	struct vnet *n = &nics[nr_nics];
	char *opts, *opt, *save = NULL;
	struct ifreq ifr = { 0 };
	bool attached;
	bool have_tap = false;

	if (nr_nics == MAX_NICS)
		return "at most 4 network devices";
	opts = strdup(arg);
	if (!opts)
		return "out of memory";
	/* Default MAC: locally administered 02:48:56:58:00:<index> ("HVX"). */
	memcpy(n->mac, (uint8_t[]){ 0x02, 0x48, 0x56, 0x58, 0x00, nr_nics }, 6);
	for (opt = strtok_r(opts, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "tap=", 4)) {
			if (!opt[4] || strlen(opt + 4) >= IFNAMSIZ || strchr(opt + 4, '/')) {
				snprintf(why, sizeof(why), "'%s' is not an interface name", opt + 4);
				return why;
			}
			strcpy(n->ifname, opt + 4);
			have_tap = true;
		} else if (!strncmp(opt, "mac=", 4)) {
			if (!parse_mac(opt + 4, n->mac)) {
				snprintf(why, sizeof(why), "'%s' is not a unicast MAC address",
					 opt + 4);
				return why;
			}
		} else {
			snprintf(why, sizeof(why), "unknown network option '%s' (tap=, mac=)", opt);
			return why;
		}
	}
	free(opts);
	if (!have_tap)
		return "no tap=NAME";

	n->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap_fd < 0) {
		snprintf(why, sizeof(why), "cannot open /dev/net/tun: %s", strerror(errno));
		return why;
	}
	/*
	 * Ethernet frames after the virtio-net header; no packet information.
	 * Multi-queue where the tap allows it (one hvx-run made, or made so),
	 * so that a live migration's receiver on this host attaches to the
	 * same tap while the sender still holds it; a single-queue tap (as
	 * tunctl makes) answers EINVAL, and is opened as such.
	 */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, n->ifname, sizeof(ifr.ifr_name));
	attached = !ioctl(n->tap_fd, TUNSETIFF, &ifr);
	if (!attached && errno == EINVAL) {
		ifr.ifr_flags &= ~IFF_MULTI_QUEUE;
		memcpy(ifr.ifr_name, n->ifname, sizeof(ifr.ifr_name));
		attached = !ioctl(n->tap_fd, TUNSETIFF, &ifr);
	}
	n->multi_queue = attached && (ifr.ifr_flags & IFF_MULTI_QUEUE);
	if (!attached ||
	    ioctl(n->tap_fd, TUNSETVNETHDRSZ, &(int){ HDR_LEN }) ||
	    ioctl(n->tap_fd, TUNSETOFFLOAD, 0ul)) {
		snprintf(why, sizeof(why), "tap %s: %s", n->ifname, strerror(errno));
		close(n->tap_fd);
		return why;
	}
	nr_nics++;
	return NULL;
}

/* ---- device configuration (struct virtio_net_config, 5.1.4) ---- */

static void net_config(struct virtio_dev *vdev, uint64_t off, uint8_t *data, int len, bool write)
{
	struct vnet *n = vdev->priv;
	uint8_t c[12] = { 0 };

	if (write || off >= sizeof(c) || off + len > sizeof(c)) {
		if (!write)
			memset(data, 0, len);
		return;	/* the MAC is read-only: VIRTIO_NET_F_CTRL_MAC_ADDR is not offered */
	}
	memcpy(c, n->mac, 6);
	c[6] = VIRTIO_NET_S_LINK_UP;	/* status; the tap has carrier while hvx-run holds it */
	c[10] = MTU & 0xff;		/* mtu at 10, after max_virtqueue_pairs */
	c[11] = MTU >> 8;
	memcpy(data, c + off, len);
}

/* ---- receive: tap -> guest ---- */

/*
 * Puts the waiting frame into receive buffers: one chain, or with
 * mergeable buffers as many as it takes, the header's num_buffers saying
 * how many.  Returns false when the ring ran out; the chains taken so far
 * are given back (nothing was pushed) and the frame keeps waiting.
 */
static bool rx_deliver(struct vnet *n)
{
	struct virtio_dev *vdev = &n->vdev;
	struct virtq *vq = &vdev->vq[RXQ];
	bool mergeable = vdev->guest_features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	uint8_t nbufs_le[2];
	struct iovec hdr_iov[HDR_LEN] = { { 0 } };
	struct { uint16_t head; uint32_t len; } used[VIRTQ_MAX_SIZE];
	size_t done = 0, total = n->rx_len;
	const char *why = NULL;
	uint16_t nbufs = 0;
	int hdr_n = 0, r, i;

	while (done < total) {
		struct virtq_elem *e = &n->elem;
		struct iovec *in;
		size_t chunk;

		r = virtq_pop(vq, e, &why);
		if (r < 0) {
			virtio_needs_reset(vdev, why);
			return true;
		}
		if (!r) {
			vq->last_avail -= nbufs;	/* taken back, in order */
			return false;
		}
		in = e->iov + e->nr_out;	/* this chain's: elem is shared with transmit */
		if (e->nr_out || (!nbufs && e->in_bytes < HDR_LEN)) {
			virtio_needs_reset(vdev, e->nr_out ? "receive buffer the device cannot write" :
					   "receive buffer shorter than the header");
			return true;
		}
		if (!mergeable && e->in_bytes < total) {
			/* Too small for this frame: it is dropped, the buffer stays. */
			vq->last_avail--;
			n->rx_dropped++;
			n->rx_len = 0;
			return true;
		}
		if (!nbufs)
			hdr_n = iov_slice(in, e->nr_in, 0, HDR_LEN, hdr_iov);
		chunk = e->in_bytes < total - done ? e->in_bytes : total - done;
		iov_from_buf(in, e->nr_in, 0, n->rx_packet + done, chunk);
		used[nbufs].head = e->head;
		used[nbufs].len = chunk;
		nbufs++;
		done += chunk;
	}
	/* The first buffer's header says how many buffers the frame took. */
	nbufs_le[0] = nbufs;
	nbufs_le[1] = nbufs >> 8;
	iov_from_buf(hdr_iov, hdr_n, HDR_NUM_BUFFERS, nbufs_le, 2);
	for (i = 0; i < nbufs; i++)
		virtq_push(vq, used[i].head, used[i].len);
	n->rx_len = 0;
	return true;
}

/*
 * The tap hands us only what the driver can take: checksums left to it
 * with GUEST_CSUM, TCP segments above the MTU with GUEST_TSO4/6 (which
 * need GUEST_CSUM: the tap refuses TSO without checksum offload).  Set
 * on the first use after the driver chose its features.
 */
static void net_sync_offloads(struct vnet *n)
{
	uint64_t f = n->vdev.guest_features;
	unsigned long tun = 0;

	if (n->tap_offloads_set && n->tap_offloads == f)
		return;
	if (f & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		tun |= TUN_F_CSUM;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			tun |= TUN_F_TSO4;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			tun |= TUN_F_TSO6;
	}
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, tun))
		vlog("%s: tap %s: offloads 0x%lx: %s", n->name, n->ifname, tun, strerror(errno));
	n->tap_offloads = f;
	n->tap_offloads_set = true;
}

/*
 * A packet the driver did not ask for: queued in the tap before the
 * driver (re)negotiated fewer offloads.  Dropped, as a NIC would.
 */
static bool rx_acceptable(struct vnet *n)
{
	uint64_t f = n->vdev.guest_features;

	if ((n->rx_packet[HDR_FLAGS] & HDR_F_NEEDS_CSUM) &&
	    !(f & (1ull << VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if (n->rx_packet[HDR_GSO_TYPE] != HDR_GSO_NONE &&
	    !(f & (1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6)))
		return false;
	return n->rx_len - HDR_LEN <= MTU + 14 || n->rx_packet[HDR_GSO_TYPE] != HDR_GSO_NONE;
}

/* Packets from the tap, while the guest has buffers for them. */
static void net_receive(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;
	bool pushed = false;

	net_sync_offloads(n);
	vdev->backend_blocked = false;
	if (!vdev->vq[RXQ].enabled) {
		vdev->backend_blocked = true;	/* until the receive queue is notified */
		return;
	}
	for (;;) {
		if (!n->rx_len) {
			ssize_t r = read(n->tap_fd, n->rx_packet, sizeof(n->rx_packet));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;		/* EAGAIN: nothing more for now */
			n->rx_len = r;
			if (r < HDR_LEN + 14 || r > HDR_LEN + MAX_FRAME || !rx_acceptable(n)) {
				n->rx_dropped++;	/* a tap MTU above ours, or unasked-for */
				n->rx_len = 0;
				continue;
			}
			log_frame(n, "rx", &(struct iovec){ n->rx_packet + HDR_LEN, r - HDR_LEN },
				  1, r - HDR_LEN);
		}
		if (!rx_deliver(n)) {
			vdev->backend_blocked = true;
			break;
		}
		if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
			return;
		pushed = true;
	}
	if (pushed)
		virtio_notify(vdev, RXQ);
}

/* ---- transmit: guest -> tap ---- */

static void net_transmit(struct vnet *n)
{
	struct virtio_dev *vdev = &n->vdev;
	struct virtq *vq = &vdev->vq[TXQ];
	struct virtq_elem *e = &n->elem;
	const char *why = NULL;
	bool pushed = false;
	int r, k;

	net_sync_offloads(n);
	while ((r = virtq_pop(vq, e, &why)) > 0) {
		size_t len;

		if (e->out_bytes < HDR_LEN) {
			why = "transmit buffer shorter than the header";
			r = -1;
			break;
		}
		/*
		 * Header and frame go to the tap as they are: it checks the
		 * header's checksum and segmentation requests and refuses a
		 * bad one (counted as a lost frame below).
		 */
		len = e->out_bytes - HDR_LEN;
		k = iov_slice(e->iov, e->nr_out, HDR_LEN, len, n->frame);
		log_frame(n, "tx", n->frame, k, len);
		k = iov_slice(e->iov, e->nr_out, 0, e->out_bytes, n->frame);
		if (len < 14 || len > MAX_FRAME) {
			n->tx_dropped++;	/* runt or giant */
		} else if (writev(n->tap_fd, n->frame, k) != (ssize_t)e->out_bytes) {
			/* The tap is down or its queue full: the frame is lost, as on a wire. */
			if (!n->tx_error_told)
				fprintf(stderr, "hvx-run: %s: tap %s: write: %s (further errors not shown)\n",
					n->name, n->ifname, strerror(errno));
			n->tx_error_told = true;
			n->tx_dropped++;
		}
		virtq_push(vq, e->head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify(vdev, TXQ);
	if (r < 0)
		virtio_needs_reset(vdev, why);
}

static void net_process(struct virtio_dev *vdev, int q)
{
	if (q == TXQ)
		net_transmit(vdev->priv);
	else
		net_receive(vdev);	/* new receive buffers: a waiting frame may fit */
}

/*
 * After a restore on another host (or another tap): tell the network
 * where the guest's MAC now is, with QEMU's announcement when the guest
 * cannot make its own (no VIRTIO_NET_F_GUEST_ANNOUNCE): a broadcast RARP
 * request from the MAC, which switches and bridges learn from.  Three of
 * them, a lost frame being likely right after a tap comes up.
 */
static void net_announce(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;
	uint8_t pkt[HDR_LEN + 60] = { 0 };
	uint8_t *f = pkt + HDR_LEN;
	int i;

	memset(f, 0xff, 6);			/* broadcast */
	memcpy(f + 6, n->mac, 6);
	f[12] = 0x80, f[13] = 0x35;		/* RARP */
	f[14] = 0, f[15] = 1;			/* Ethernet */
	f[16] = 0x08, f[17] = 0x00;		/* IPv4 */
	f[18] = 6, f[19] = 4;
	f[20] = 0, f[21] = 3;			/* reverse request */
	memcpy(f + 22, n->mac, 6);
	memcpy(f + 32, n->mac, 6);
	for (i = 0; i < 3; i++)
		if (write(n->tap_fd, pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
			vlog("%s: announcement: %s", n->name, strerror(errno));
	vlog("%s: announced %02x:%02x:%02x:%02x:%02x:%02x (RARP)", n->name, n->mac[0],
	     n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
}

/*
 * A migration's two ends on one multi-queue tap: the tap spreads frames
 * for the guest over its attached queues, so the receiver's queue stays
 * detached until it runs the guest, and the sender's is detached once it
 * has let the guest go.
 */
void virtio_net_tap_queues(bool attach)
{
	int i;

	for (i = 0; i < nr_nics; i++) {
		struct vnet *n = &nics[i];
		struct ifreq ifr = { .ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

		if (n->multi_queue && ioctl(n->tap_fd, TUNSETQUEUE, &ifr))
			vlog("%s: tap %s: %s its queue: %s", n->name, n->ifname,
			     attach ? "attaching" : "detaching", strerror(errno));
	}
}

static const struct virtio_dev_ops net_ops = {
	.restored = net_announce,
	.config = net_config,
	.process = net_process,
	.backend = net_receive,
};

static void virtio_net_init(void)
{
	int i;

	for (i = 0; i < nr_nics; i++) {
		struct vnet *n = &nics[i];
		struct virtio_dev *vdev = &n->vdev;

		snprintf(n->name, sizeof(n->name), "virtio-net%d", i);
		vdev->name = n->name;
		vdev->ops = &net_ops;
		vdev->priv = n;
		vdev->backend_fd = n->tap_fd;
		vdev->host_features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
				      1ull << VIRTIO_NET_F_MRG_RXBUF | 1ull << VIRTIO_NET_F_MTU |
				      1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
				      1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
				      1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6;
		virtio_pci_init(vdev, VIRTIO_ID_NET, 2);
		vlog("%s: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x", n->name, n->ifname,
		     n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	}
}

/*
 * Each NIC's transport.  A frame read from the tap and waiting for
 * receive buffers is the host's, not the guest's: lost, as on a wire;
 * the tap's offloads follow the loaded features at their next use.
 */
static void virtio_net_state(struct state *s)
{
	int i, n = nr_nics;

	STATE(s, n);
	state_check(s, n == nr_nics);
	for (i = 0; i < nr_nics && !s->failed; i++)
		virtio_state(s, &nics[i].vdev);
}

DEVICE("virtio-net", virtio_net_init, virtio_net_state)
