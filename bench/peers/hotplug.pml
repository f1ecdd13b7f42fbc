/* x86_64 at v4.5: drivers adding and removing device memory (devm_memremap_pages with or
 * without a struct vmem_altmap), the configuration `python -m bench` explores with mhpcheck.
 * Bounds: NSECT hot-pluggable sections, NDEV device slots, ranges of 1..MAXN sections; no RAM
 * hot-add, no injected allocation failures. README.md beside this file says how it abstracts
 * the kernel model and why its distinct states are exactly mhpcheck's. */

#ifndef NSECT
#define NSECT 3
#endif
#ifndef NDEV
#define NDEV 2
#endif
#ifndef MAXN
#define MAXN 2
#endif

#define PPS    32768    /* PAGES_PER_SECTION: 1 << (SECTION_SIZE_BITS 27 - PAGE_SHIFT 12) */
#define LEAF   512      /* base pages of memmap in one 2 MiB PMD leaf = one section's memmap */
#define BASE   1310720  /* HOTPLUG_BASE_PFN 0x140000: the first hot-pluggable pfn */
#define SYSMEM 255      /* a vmemmap leaf backed by the page allocator */

typedef Range {         /* struct dev_pagemap + struct vmem_altmap */
	bool used;
	byte first;     /* first section of the range, counted from BASE */
	byte n;         /* sections */
	bool alt;       /* an altmap was passed */
	short reserve;
	int free;
	short align;
	int alloc
};

Range dev[NDEV];
byte nused;             /* slots in use */
byte owner[NSECT];      /* present sections: 1 + the device that added them, 0 if absent */
byte src[NSECT];        /* each section's vmemmap leaf: 1 + the device whose altmap backs it, SYSMEM, 0 */
int lpfn[NSECT];        /* first pfn backing an altmap-backed leaf */
byte minit[NSECT];      /* 1 + section, in the order memmap_init_zone() initialised them */
byte nminit;
byte res[NDEV];         /* iomem resources: 1 + device, in the order they were requested */
byte nres;
int sysmem;             /* base pages the page allocator gave to the memmap */

/* Scratch of one d_step, written before it is read: not part of the state vector. The
 * choices made inside an atomic sequence are the process's locals instead, because pan's
 * depth-first search backtracks through them (and they are zeroed when the step ends). */
hidden byte j, k, s;
hidden int pfn, nralign, nrfree, alloc, align;
hidden byte ok;

/* Remove device d: devm_memremap_pages_release() then the driver's release of its region. */
inline remove_device() {
	j = 0;
	do
	:: j < dev[d].n ->
		s = dev[d].first + j;
		owner[s] = 0;
		k = 0;                       /* memmap_init intervals of the section go with its memmap */
		do
		:: k < nminit && minit[k] != s + 1 -> k++
		:: k < nminit && minit[k] == s + 1 ->
			do
			:: k + 1 < nminit -> minit[k] = minit[k + 1]; k++
			:: else -> break
			od;
			nminit--; minit[nminit] = 0; break
		:: k >= nminit -> break
		od;
		if                           /* vmemmap_free(): back to where it came from */
		:: src[s] == SYSMEM -> sysmem = sysmem - LEAF
		:: else -> dev[src[s] - 1].alloc = dev[src[s] - 1].alloc - LEAF
		fi;
		src[s] = 0; lpfn[s] = 0;
		j++
	:: else -> break
	od;
	k = 0;                               /* release_mem_region */
	do
	:: k < nres && res[k] != d + 1 -> k++
	:: k < nres && res[k] == d + 1 ->
		do
		:: k + 1 < nres -> res[k] = res[k + 1]; k++
		:: else -> break
		od;
		nres--; res[nres] = 0; break
	:: k >= nres -> break
	od;
	dev[d].used = 0; dev[d].first = 0; dev[d].n = 0; dev[d].alt = 0;
	dev[d].reserve = 0; dev[d].free = 0; dev[d].align = 0; dev[d].alloc = 0;
	nused--
}

/* Add device d over sections [f, f+n), with the altmap (alt, boff, r, fr) if alt. */
inline add_device() {
	ok = 1;
	k = 0;                               /* request_mem_region(): -EBUSY on any overlap */
	do
	:: k < NDEV ->
		if
		:: dev[k].used && f < dev[k].first + dev[k].n && dev[k].first < f + n -> ok = 0
		:: else
		fi;
		k++
	:: else -> break
	od;
	if                                   /* __add_pages(): "invalid altmap", -EINVAL */
	:: ok && alt && (boff != 0 || r + fr > n * PPS) -> ok = 0
	:: else
	fi;
	alloc = 0; align = 0;                /* __add_pages() resets a stale alloc */
	j = 0;
	do
	:: ok && j < n ->
		s = f + j;
		if
		:: alt ->                    /* vmem_altmap_alloc(altmap, LEAF) */
			pfn = BASE + f * PPS + r + alloc + align;
			nralign = (LEAF - pfn % LEAF) % LEAF;
			if
			:: fr > alloc + align -> nrfree = fr - (alloc + align)
			:: else -> nrfree = 0
			fi;
			if
			:: LEAF + nralign > nrfree ->
				/* -ENOMEM, no fallback with an altmap; within these bounds only the
				 * first section can run out, so nothing is left to undo */
				assert(j == 0);
				ok = 0
			:: else ->
				align = align + nralign;
				alloc = alloc + LEAF;
				src[s] = d + 1; lpfn[s] = pfn + nralign
			fi
		:: else ->
			src[s] = SYSMEM; sysmem = sysmem + LEAF
		fi;
		if
		:: ok ->
			owner[s] = d + 1;
			minit[nminit] = s + 1; nminit++
		:: else
		fi;
		j++
	:: else -> break
	od;
	if
	:: ok ->
		dev[d].used = 1; dev[d].first = f; dev[d].n = n; dev[d].alt = alt;
		if
		:: alt -> dev[d].reserve = r; dev[d].free = fr; dev[d].align = align; dev[d].alloc = alloc
		:: else
		fi;
		res[nres] = d + 1; nres++;
		nused++
	:: else
	fi
}

active proctype environment()
{
	byte d, f, n, r;
	int fr;
	bit boff, alt;
end:
	do
	:: atomic {
		nused < NDEV ->
		d = 0;                       /* slots are interchangeable: the lowest free one */
		do
		:: dev[d].used -> d++
		:: else -> break
		od;
		f = 0;
		do
		:: f < NSECT - 1 -> f++
		:: break
		od;
		n = 1;
		do
		:: n < MAXN && f + n < NSECT -> n++
		:: break
		od;
		boff = 0; r = 0; fr = 0; alt = 1;
		if                           /* the driver's altmap choices, as mhpcheck's altmap_choices() */
		:: alt = 0
		:: fr = n * LEAF
		:: fr = 0
		:: n == 1 -> fr = LEAF - 1
		:: r = 2; fr = (LEAF - 2) + n * LEAF
		:: r = 2; fr = 0
		:: n == 1 -> r = 2; fr = (LEAF - 2) + LEAF - 1
		:: n == 1 -> fr = 2 * LEAF   /* with a stale alloc of LEAF, reset by __add_pages() */
		:: fr = n * PPS
		:: r = 2; fr = n * PPS
		:: boff = 1; fr = LEAF
		fi;
		d_step {
			add_device();
			d = 0; f = 0; n = 0; r = 0; fr = 0; boff = 0; alt = 0
		}
	   }
	:: d_step { dev[0].used -> d = 0; remove_device(); d = 0 }
#if NDEV > 1
	:: d_step { dev[1].used -> d = 1; remove_device(); d = 0 }
#endif
#if NDEV > 2
	:: d_step { dev[2].used -> d = 2; remove_device(); d = 0 }
#endif
#if NDEV > 3
	:: d_step { dev[3].used -> d = 3; remove_device(); d = 0 }
#endif
	od
}
