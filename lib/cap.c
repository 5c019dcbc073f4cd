/* SPDX-License-Identifier: MIT */
/*
 * cap: libpcap behind an opaque handle (see cap.h).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap.h"

struct mp_cap {
	pcap_t *pc;
	bool live;
	int linktype;
	int tsprec;		/* PCAP_TSTAMP_PRECISION_NANO or _MICRO */
};

/* libpcap's status as an errno. */
static int cap_errno(int status)
{
	switch (status) {
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return -EPERM;
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return -ENODEV;
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENETDOWN;
	default:
		return -EIO;
	}
}

static int open_live(struct mp_cap *c, const struct mp_cap_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	int r;

	c->pc = pcap_create(o->ifname, ebuf);
	if (!c->pc) {
		snprintf(err, errlen, "%s", ebuf);
		return -ENODEV;
	}
	c->live = true;
	pcap_set_snaplen(c->pc, (int)o->snaplen);
	pcap_set_immediate_mode(c->pc, 1);
	pcap_set_buffer_size(c->pc, (int)o->buf_bytes);
	/* ns stamps where the kernel gives them: the samples are differences */
	if (pcap_set_tstamp_precision(c->pc, PCAP_TSTAMP_PRECISION_NANO) == 0)
		c->tsprec = PCAP_TSTAMP_PRECISION_NANO;
	r = pcap_activate(c->pc);
	if (r < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(c->pc));
		return cap_errno(r);
	}
	if (pcap_setnonblock(c->pc, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s", ebuf);
		return -EIO;
	}
	return 0;
}

int mp_cap_open(struct mp_cap **ret, const struct mp_cap_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct mp_cap *c;
	int r;

	if (errlen)
		err[0] = '\0';
	if (!o->ifname == !o->file)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tsprec = PCAP_TSTAMP_PRECISION_MICRO;
	if (o->ifname) {
		r = open_live(c, o, err, errlen);
	} else {
		c->pc = pcap_open_offline_with_tstamp_precision(o->file,
				PCAP_TSTAMP_PRECISION_NANO, ebuf);
		c->tsprec = PCAP_TSTAMP_PRECISION_NANO;
		r = c->pc ? 0 : -ENOENT;
		if (r < 0)
			snprintf(err, errlen, "%s", ebuf);
	}
	if (r < 0)
		goto fail;
	c->linktype = pcap_datalink(c->pc);
	if (o->filter && *o->filter) {
		if (pcap_compile(c->pc, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "%s", pcap_geterr(c->pc));
			r = -EINVAL;
			goto fail;
		}
		r = pcap_setfilter(c->pc, &prog);
		pcap_freecode(&prog);
		if (r < 0) {
			snprintf(err, errlen, "%s", pcap_geterr(c->pc));
			r = -EIO;
			goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	mp_cap_close(c);
	return r;
}

void mp_cap_close(struct mp_cap *c)
{
	if (!c)
		return;
	if (c->pc)
		pcap_close(c->pc);
	free(c);
}

int mp_cap_linktype(const struct mp_cap *c)
{
	return c->linktype;
}

int mp_cap_fd(const struct mp_cap *c)
{
	return c->live ? pcap_get_selectable_fd(c->pc) : -1;
}

int mp_cap_next(struct mp_cap *c, struct mp_cap_pkt *ret)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t frac;
	int r;

	r = pcap_next_ex(c->pc, &h, &d);
	if (r == 0)
		return 0;
	if (r == PCAP_ERROR_BREAK)
		return -ENODATA;
	if (r < 0)
		return -EIO;
	frac = (uint64_t)h->ts.tv_usec;
	if (c->tsprec != PCAP_TSTAMP_PRECISION_NANO)
		frac *= 1000;
	ret->t_ns = (uint64_t)h->ts.tv_sec * MP_NSEC_PER_SEC + frac;
	ret->data = d;
	ret->caplen = h->caplen;
	ret->len = h->len;
	return 1;
}

const char *mp_cap_error(struct mp_cap *c)
{
	const char *e = c ? pcap_geterr(c->pc) : NULL;

	return e ? e : "";
}

int mp_cap_drops(struct mp_cap *c, uint64_t *ret_kernel, uint64_t *ret_ifdrop)
{
	struct pcap_stat st;

	if (!c->live || pcap_stats(c->pc, &st) < 0)
		return -EIO;
	*ret_kernel = st.ps_drop;
	*ret_ifdrop = st.ps_ifdrop;
	return 0;
}
