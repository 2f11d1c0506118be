// SPDX-License-Identifier: GPL-2.0
/* devices/serial.c - 16550A UART at 0x3f8, IRQ 4, on stdio: raw terminal, Ctrl-A x, panic detection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hvx-run.h"
#include "migration/state.h"

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define RX_SIZE		4096

/* Register bits, in the 8250 data sheet's names. */
#define IER_RDI		0x01	/* receive data interrupt */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0	/* FIFOs enabled: 16550A */
#define FCR_FIFO_EN	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_OUT2	0x08	/* on PCs, gates the interrupt line */
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_DCD_DSR_CTS	0xb0

#define CTRL_A		0x01

/*
 * Stock Linux has no panic channel to the host without ACPI or PCI (no
 * pvpanic here), but it always prints this on its console first: watch
 * the output stream for it.
 */
static const char panic_banner[] = "Kernel panic - not syncing";

static struct uart {
	pthread_mutex_t lock;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thre_pending;	/* THR-empty interrupt not yet acknowledged */
	bool line;		/* the interrupt line, as last driven */
	uint8_t rx[RX_SIZE];
	unsigned int rx_head, rx_count;
	unsigned int panic_match;
	bool panic_seen;
	bool escape;		/* Ctrl-A typed, waiting for the command key */
} uart = { .lock = PTHREAD_MUTEX_INITIALIZER, .dll = 12 /* 9600 baud */, .lcr = 3 };

static struct termios saved_tio;
static bool tty_raw;

bool serial_panic_seen(void)
{
	bool seen;

	pthread_mutex_lock(&uart.lock);
	seen = uart.panic_seen;
	pthread_mutex_unlock(&uart.lock);
	return seen;
}

static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = u->fcr & FCR_FIFO_EN ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

/* Called after every state change: drives IRQ 4 (edge-triggered on ISA). */
static void uart_update_irq(struct uart *u)
{
	bool line = !(uart_iir(u) & IIR_NO_INT) && (u->mcr & MCR_OUT2);

	if (line != u->line) {
		u->line = line;
		irq_set_level(COM1_IRQ, line);
	}
}

static void rx_push(struct uart *u, uint8_t c)
{
	/* A full FIFO drops the byte, as an overrun would. */
	if (u->rx_count < RX_SIZE) {
		u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = c;
		u->rx_count++;
	}
}

static void tx_byte(struct uart *u, uint8_t c)
{
	ssize_t ret;

	if (u->mcr & MCR_LOOP) {
		rx_push(u, c);
		return;
	}
	do {
		ret = write(STDOUT_FILENO, &c, 1);
	} while (ret < 0 && errno == EINTR);

	if (c == (uint8_t)panic_banner[u->panic_match]) {
		if (++u->panic_match == sizeof(panic_banner) - 1) {
			u->panic_seen = true;
			u->panic_match = 0;
		}
	} else {
		u->panic_match = c == (uint8_t)panic_banner[0];
	}
}

static uint8_t uart_msr(struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD_DSR_CTS;		/* a terminal is always there */
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (Linux probes this). */
	return (m & 0x01) << 5 | (m & 0x02) << 3 | (m & 0x04) << 4 | (m & 0x08) << 4;
}

static void uart_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct uart *u = opaque;
	unsigned int reg = port - COM1_BASE;
	uint8_t v = data[0];

	if (len != 1) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (write) {
		switch (reg) {
		case 0:
			if (u->lcr & LCR_DLAB) {
				u->dll = v;
			} else {
				/* Sent at once: the holding register is empty again. */
				tx_byte(u, v);
				u->thre_pending = true;
			}
			break;
		case 1:
			if (u->lcr & LCR_DLAB) {
				u->dlm = v;
			} else {
				/* Enabling THRI with the THR empty interrupts at once. */
				if ((v & IER_THRI) && !(u->ier & IER_THRI))
					u->thre_pending = true;
				u->ier = v & 0x0f;
			}
			break;
		case 2:
			u->fcr = v & 0xc9;
			if (v & FCR_CLEAR_RX)
				u->rx_count = 0;
			break;
		case 3: u->lcr = v; break;
		case 4: u->mcr = v & 0x1f; break;
		case 7: u->scr = v; break;
		default: break;		/* LSR, MSR: read-only */
		}
	} else {
		switch (reg) {
		case 0:
			if (u->lcr & LCR_DLAB) {
				v = u->dll;
			} else if (u->rx_count) {
				v = u->rx[u->rx_head];
				u->rx_head = (u->rx_head + 1) % RX_SIZE;
				u->rx_count--;
			} else {
				v = 0;
			}
			break;
		case 1: v = u->lcr & LCR_DLAB ? u->dlm : u->ier; break;
		case 2:
			v = uart_iir(u);
			/* Reading IIR acknowledges a THR-empty interrupt it reports. */
			if ((v & 0x0f) == IIR_THRI)
				u->thre_pending = false;
			break;
		case 3: v = u->lcr; break;
		case 4: v = u->mcr; break;
		case 5: v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0); break;
		case 6: v = uart_msr(u); break;
		default: v = u->scr; break;
		}
		data[0] = v;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void serial_tty_restore(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tty_raw = false;
}

/* On the I/O thread: keyboard bytes into the receive FIFO. */
static void stdin_ready(void *opaque, int fd)
{
	struct uart *u = opaque;
	uint8_t buf[256];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		iothread_remove_fd(fd);		/* EOF: the guest just gets no input */
		return;
	}
	pthread_mutex_lock(&u->lock);
	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (tty_raw && u->escape) {
			u->escape = false;
			if (c == 'x' || c == 'X') {
				vm_stop(ST_SIGINT, "quit (Ctrl-A x): VM torn down");
				continue;
			}
			if (c != CTRL_A)
				rx_push(u, CTRL_A);
		} else if (tty_raw && c == CTRL_A) {
			u->escape = true;
			continue;
		}
		rx_push(u, c);
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void serial_init(void)
{
	io_register_port(COM1_BASE, 8, uart_io, &uart, "serial");
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;

		/* Raw: Ctrl-C and friends go to the guest; Ctrl-A x quits. */
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) {
			tty_raw = true;
			atexit(serial_tty_restore);
		}
	}
	iothread_add_fd(STDIN_FILENO, stdin_ready, &uart);
}

/*
 * The registers, the receive FIFO and the interrupt line; not the panic
 * watch or the terminal, which are hvx-run's, not the guest's.
 */
static void serial_state(struct state *s)
{
	struct uart *u = &uart;

	pthread_mutex_lock(&u->lock);
	STATE(s, u->ier);
	STATE(s, u->fcr);
	STATE(s, u->lcr);
	STATE(s, u->mcr);
	STATE(s, u->scr);
	STATE(s, u->dll);
	STATE(s, u->dlm);
	STATE(s, u->thre_pending);
	STATE(s, u->line);
	STATE(s, u->rx);
	STATE(s, u->rx_head);
	STATE(s, u->rx_count);
	state_check(s, u->rx_head < RX_SIZE && u->rx_count <= RX_SIZE);
	if (s->load && !s->failed) {
		/* Drive the line the loaded registers imply. */
		irq_set_level(COM1_IRQ, u->line);
		uart_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
}

DEVICE("serial 8250 COM1", serial_init, serial_state)
