/* test_hooks.c - the hooks example's upload and update, checked in full.

   It includes examples/hooks.c, hooks and all (the example's main is renamed and not
   called), and runs the upload and the download through those hooks against
   tests/mini_oss.h:
     1. the link drops half-way through the part after CUT_AFTER: the call fails with a
        network error; the record left in the RAM flash names the server's upload, each
        part slot with the ETag the server gave that part; nothing is held; the library's
        heap peak is what went through the pool, within ossr_workspace_size(); then a
        power cut tears the slot of TORN_PART;
     2. while another upload holds the record's claim, a call stops before any request;
     3. the next call resumes, keeping exactly the parts the server has (ListParts paged),
        and completes; the object equals the source, the status describes it, no
        checkpoint and no open upload are left;
     4. the object comes down into the OTA partition in ranges (one HEAD, then GETs with
        Range); the link drops half-way through the range after CUT_AFTER: the call fails
        with a network error after exactly CUT_AFTER + 1 GETs; the partition was closed
        with KEEP and is not bootable; the record in the RAM flash is a download's, for
        this object (size, ETag, CRC-64, Last-Modified, ranges), with a slot for each
        range that came in whole holding the source's CRC-64 of it; nothing is held; then
        a bit of range DAMAGED_RANGE flips in the partition;
     5. while another transfer holds the record's claim, a download stops after its HEAD,
        before any GET and before the partition is opened;
     6. the next call resumes: it reads the kept ranges back (read_at), finds the damaged
        one, and fetches exactly it and the ranges never fetched; the partition equals
        the source and was committed (bootable), the status describes the object, no
        checkpoint is left;
     7. a file below the threshold goes up in one PutObject;
     8. and comes down in one GET without Range, with no checkpoint;
     9. a session in a block of its own needs no allocator;
    10. the object comes down into a partition written front to back (in_order), the link
        failing once in the middle of a range: no write ever lands below one made before;
    11. a store whose load fails once (-1, a flash read error) as a cut upload, then a cut
        download, resumes: the record stays, no second upload begins, no kept range is
        fetched again;
    12. a store whose load fails as Complete's body is made a second time (from the
        parts' slots, as it goes out): the call says the checkpoint failed, and the next
        one completes.
   It builds as the example does: as it is, with the four NO_ switches, and with
   OSSR_NO_MALLOC too (make hooks), and for a Cortex-M4 run in qemu (tests/matrix.sh).
   Any failure ends it with a message and exit status 1. */
#define main hooks_example_main
int hooks_example_main(void);
#include "../examples/hooks.c"
#undef main

#define TORN_PART 4u                  /* the part whose checkpoint slot a power cut tears */
#define DAMAGED_RANGE 3u              /* the kept range whose bytes go bad in the partition */

/* The record the cut upload left in the RAM flash must name the upload the server holds,
   each part slot at its part's place with the ETag the server gave; then a power cut
   tears the slot of TORN_PART. */
static int check_record(void) {
    flash_bank *b = flash_live();
    unsigned slots;
    const char *why;
    if (!b) return failed("the cut upload left no checkpoint in the RAM flash", NULL);
    if ((why = mini_oss_check_checkpoint(b->data, b->len, &slots)) != NULL) return failed(why, NULL);
    printf("test_hooks: checkpoint %s: %lu bytes (%u writes unsynced), %u part slots\n", b->name,
           (unsigned long)b->len, b->unsynced, slots);
    if (slots == 0) return failed("the checkpoint holds no part slot", NULL);
    if (mini_oss_tear_slot(b->data, b->len, TORN_PART) != 0) return failed("there is no slot to tear", NULL);
    printf("test_hooks: a power cut tears the slot of part %u in the RAM flash\n", TORN_PART);
    return 0;
}

/* The record the cut download left in the RAM flash must be a download's, of the object
   on the server into OTA_NAME in parts ranges of PART_SIZE, each intact slot at its
   range's place with the size and CRC-64 of the source's bytes there, one for each of the
   fetched ranges that came in whole; then a bit of DAMAGED_RANGE flips in the partition. */
static int check_download_record(const char *key, uint32_t parts, unsigned fetched) {
    const mini_oss_object *obj = mini_oss_last_object();
    flash_bank *b = flash_live();
    ossr_checkpoint ck;
    size_t off;
    unsigned i, slots = 0;
    if (!b) return failed("the cut download left no checkpoint in the RAM flash", NULL);
    if (ossr_checkpoint_decode(b->data, b->len, &ck) <= 0) return failed("the download's checkpoint does not decode", NULL);
    if (!(ck.flags & OSSR_CKPT_FLAG_DOWNLOAD) || !(ck.flags & OSSR_CKPT_FLAG_OBJECT_CRC) ||
        ck.file_size != obj->size || ck.mtime_sec != obj->mtime || ck.head_crc != obj->crc ||
        ck.upload_id.len != strlen(obj->etag) || memcmp(ck.upload_id.ptr, obj->etag, ck.upload_id.len) != 0 ||
        ck.key.len != strlen(key) || memcmp(ck.key.ptr, key, ck.key.len) != 0 || ck.path.len != strlen(OTA_NAME) ||
        memcmp(ck.path.ptr, OTA_NAME, ck.path.len) != 0 || ck.part_size != PART_SIZE || ck.part_count != parts)
        return failed("the download's checkpoint does not describe the object on the server and the partition", NULL);
    for (i = 0, off = (size_t)ck.slots_offset; off + OSSR_CKPT_SLOT <= b->len; i++, off += OSSR_CKPT_SLOT) {
        ossr_checkpoint_part p;
        uint64_t at = (uint64_t)i * PART_SIZE, len;
        if (!ossr_checkpoint_decode_part(b->data + off, &p)) continue;
        if (i >= parts) return failed("the checkpoint has a slot past the last range", NULL);
        len = at + PART_SIZE <= obj->size ? PART_SIZE : obj->size - at;
        if (p.number != i + 1 || p.size != len || p.crc64 != ossr_crc64(0, source + at, (size_t)len) || p.etag[0])
            return failed("a range's slot does not hold its place, size and CRC-64", NULL);
        slots++;
    }
    printf("test_hooks: checkpoint %s: a download's, %lu bytes (%u writes unsynced), %u range slots\n", b->name,
           (unsigned long)b->len, b->unsynced, slots);
    if (slots != fetched) return failed("the checkpoint does not hold a slot for each range fetched whole", NULL);
    partition[(DAMAGED_RANGE - 1) * PART_SIZE + 1000] ^= 0x10;
    printf("test_hooks: a bit flips in range %u of the OTA partition\n", DAMAGED_RANGE);
    return 0;
}

/* The server's last object must be key, equal to the first size bytes of the source. */
static int object_matches(const char *key, size_t size) {
    const mini_oss_object *obj = mini_oss_last_object();
    const char *why = mini_oss_check_object(key, source, size);
    if (why) return failed(why, NULL);
    printf("test_hooks: object %s: %lu bytes, CRC-64 %08lX%08lX, ETag %s\n", key, (unsigned long)size,
           (unsigned long)(obj->crc >> 32), (unsigned long)(obj->crc & 0xFFFFFFFFu), obj->etag);
    return 0;
}

/* What every finished call must leave: no connection, file, pool block or claim held, no
   hook misused, no request refused. */
static int nothing_held(const char *when) {
    const char *why = mini_oss_idle();
    if (file_stats.opens != file_stats.closes) why = "the file was left open";
    else if (pool.n != 0 || pool.held != 0 || pool.errors) why = "pool blocks were not returned, or freed wrongly";
    else if (flash.faults) why = "the checkpoint store was misused (see above)";
    else if (store_claim[0]) why = "the claim on the record was kept";
    else if (ota.open || ota.faults) why = "the OTA partition was left open, or used outside the image";
    if (!why) return 0;
    printf("test_hooks: FAILED: %s: %s (connections %lu/%lu, file %u/%u, pool %u blocks, %lu bytes)\n", when,
           why, mini_oss_count()->connects, mini_oss_count()->closes, file_stats.opens, file_stats.closes, pool.n,
           (unsigned long)pool.held);
    return 1;
}

/* The library's heap peak: what went through the pool (with an allocator), and never
   above ossr_workspace_size(). */
static int heap_peak_ok(const ossr_status *st, size_t need) {
#ifndef OSSR_NO_MALLOC
    if (st->heap_peak != pool.peak) return failed("status.heap_peak differs from what went through opts.alloc", st);
#endif
    if (st->heap_peak > need) return failed("status.heap_peak is above ossr_workspace_size()", st);
    return 0;
}

/* Step 10's sink: the OTA partition written front to back (in_order), which counts every
   write below the end of one made since it was opened. */
static uint64_t ordered_end;
static unsigned ordered_back;
static int ordered_open(const char *name, uint64_t size, int fresh, void **sink, void *user) {
    ordered_end = 0;
    return ota_open(name, size, fresh, sink, user);
}
static int ordered_write(void *sink, const void *buf, size_t len, uint64_t off, void *user) {
    if (off < ordered_end) ordered_back++;
    if (off + len > ordered_end) ordered_end = off + len;
    return ota_write_at(sink, buf, len, off, user);
}
/* Step 10's link: the server's, whose receive fails once, in the middle of range 3's body
   (counted in object bytes from recv_cut_from, the server's count when it was armed). */
static int recv_cut_armed;
static unsigned long recv_cut_from;
static long cut_once_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    if (recv_cut_armed && mini_oss_count()->get_bytes - recv_cut_from >= 2 * PART_SIZE + PART_SIZE / 2) {
        recv_cut_armed = 0;
        return OSSR_E_RECV;
    }
    return transport.recv(conn, buf, cap, timeout_ms, user);
}
/* Whether a call the link was cut under (what: "upload" or "download") failed as a cut
   link fails; says how it went. */
static int cut_as_planned(ossr_result r, const char *what, const ossr_status *st) {
    char line[768];
    if (r == OSSR_OK || (r != OSSR_E_CONNECT && r != OSSR_E_SEND && r != OSSR_E_RECV)) {
        printf("test_hooks: FAILED: the cut %s %s\n", what, r == OSSR_OK ? "succeeded" : "failed with an unexpected result");
        failed("see the status", st);
        return 0;
    }
    printf("test_hooks: %s 1 failed as planned: %s\n", what, ossr_status_format(st, line, sizeof line));
    return 1;
}
/* Step 11's store: the example's RAM flash, whose load fails (-1, as a flash read error
   does) load_failures more times. */
static int load_failures;
static long flaky_load(const char *name, uint64_t off, void *buf, size_t cap, void *user) {
    if (load_failures > 0) { load_failures--; return -1; }
    return store_load(name, off, buf, cap, user);
}
/* Options of steps 11 and 12: the image from its RAM file to key, the checkpoint in a
   copy of the RAM flash whose load is load (*flaky, which must outlive the calls). */
static ossr_options flaky_options(const ossr_options *o, ossr_store *flaky,
                                  long (*load)(const char *, uint64_t, void *, size_t, void *), const char *key) {
    ossr_options fo = *o;
    *flaky = store;
    flaky->load = load;
    fo.store = flaky;
    fo.file_path = "ram:firmware.img";
    fo.key = key;
    return fo;
}
/* Step 12's store: its slot_fail_at-th load of part slots (past the record's head) fails.
   A new upload reads its slots only for Complete: once to size the body, then again
   as the body goes out, 16 slots a load. */
static int slot_loads, slot_fail_at;
static long slot_flaky_load(const char *name, uint64_t off, void *buf, size_t cap, void *user) {
    if (off > 0 && slot_fail_at && ++slot_loads == slot_fail_at) return -1;
    return store_load(name, off, buf, cap, user);
}

/* The scenario, steps 1 to 11 above; exit status 0 when every check passes. */
int main(void) {
    const mini_oss_config server = { KEY_ID, clock_unix, clock_sleep, NULL };
    const mini_oss_counts *served = mini_oss_count();
    const mini_oss_object *obj = mini_oss_last_object();
    mini_oss_counts before;
    unsigned long fetched;
    unsigned reads, writes;
    ossr_options o;
    ossr_status st;
    ossr_result r;
    size_t need;
    uint64_t part_size;
    uint32_t parts;
    char line[768];
    int step_failed = 0;                  /* a step that said its failure and let the others run */

    fill_source();
    mini_oss_reset(&server);
    if (hook_options(&o, "ram:firmware.img", "fleet/0042/firmware.img") != 0) return 1;
    need = ossr_workspace_size(&o, HOOKS_FILE_SIZE);
    if (ossr_plan_parts(HOOKS_FILE_SIZE, PART_SIZE, &part_size, &parts, NULL, 0) != OSSR_OK ||
        part_size != PART_SIZE)
        return failed("the file does not plan into parts of PART_SIZE", NULL);
    printf("test_hooks: %lu bytes in %lu parts of %lu bytes; library heap at most %lu bytes\n",
           (unsigned long)HOOKS_FILE_SIZE, (unsigned long)parts, (unsigned long)PART_SIZE, (unsigned long)need);

    /* 1. The link drops half-way through the part after CUT_AFTER: the call fails. */
    mini_oss_cut_after(CUT_AFTER);
    if (!cut_as_planned(ossr_upload(&o, &st), "upload", &st)) return 1;
    if (served->parts_stored < CUT_AFTER) return failed("the server stored fewer parts than planned", &st);
    if (nothing_held("after upload 1") || check_record() != 0 || heap_peak_ok(&st, need) != 0) return 1;

    /* 2. While another upload holds the record's claim, a second one stops before any request. */
    before = *served;
    memcpy(store_claim, "held", 5);
    r = ossr_upload(&o, &st);
    store_claim[0] = 0;
    if (r != OSSR_E_BUSY || served->requests != before.requests)
        return failed("a second upload of a held record went on", &st);

    /* 3. The link is back: the call resumes from the RAM checkpoint and completes. The part
          whose slot was torn is checked against the file and its slot written again. */
    mini_oss_link_up();
    pool.peak = 0;
    r = ossr_upload(&o, &st);
    if (r != OSSR_OK) return failed("the resumed upload failed", &st);
    printf("test_hooks: upload 2: resumed %d, parts %lu: %lu reused, %lu sent; %lu body bytes; heap peak %lu; "
           "checkpoint %lu writes (%u in place), %lu bytes; ListParts pages %lu (%lu truncated)\n", st.resumed,
           (unsigned long)st.parts_total, (unsigned long)st.parts_reused, (unsigned long)st.parts_uploaded,
           (unsigned long)st.bytes_sent, (unsigned long)st.heap_peak, (unsigned long)st.checkpoint_writes,
           flash.rewrites, (unsigned long)st.checkpoint_bytes, served->lists, served->list_pages_truncated);
    if (!st.multipart || st.resumed != 1) return failed("the second call did not resume the checkpoint", &st);
    if (st.parts_reused != CUT_AFTER || st.parts_reused + st.parts_uploaded != st.parts_total ||
        st.parts_total != parts)
        return failed("the resumed upload did not keep exactly the parts the server had", &st);
    if (served->list_pages_truncated == 0) return failed("ListParts never needed a second page", &st);
    if (object_matches(o.key, HOOKS_FILE_SIZE) != 0) return 1;
    if (st.size != HOOKS_FILE_SIZE || st.crc64 != mini_oss_last_object()->crc ||
        strcmp(st.etag, mini_oss_last_object()->etag) != 0)
        return failed("the status does not describe the object on the server", &st);
    if (flash_live()) return failed("the checkpoint is still in the RAM flash after success", &st);
    if (nothing_held("after upload 2") || heap_peak_ok(&st, need) != 0) return 1;
    if (served->uploads_open) return failed("an upload is left open on the server", &st);

    /* 4. The object comes down into the OTA partition in ranges; the link drops half-way
          through the range after CUT_AFTER: the call fails. */
    o.file_path = OTA_NAME;
    before = *served;
    pool.peak = 0;
    mini_oss_cut_get_after(CUT_AFTER);
    if (!cut_as_planned(ossr_download(&o, &st), "download", &st)) return 1;
    if (served->heads != before.heads + 1 || served->gets != before.gets + CUT_AFTER + 1 ||
        served->ranges != before.ranges + CUT_AFTER + 1)
        return failed("the cut download did not make one HEAD and CUT_AFTER + 1 ranged GETs", &st);
    if (served->get_bytes - before.get_bytes < CUT_AFTER * PART_SIZE + PART_SIZE / 2 ||
        served->get_bytes - before.get_bytes >= (CUT_AFTER + 1) * PART_SIZE)
        return failed("the link did not drop half-way through the range after CUT_AFTER", &st);
    if (!st.multipart || st.parts_total != parts) return failed("the download was not planned in ranges of PART_SIZE", &st);
    if (ota.bootable || ota.how != OSSR_SINK_KEEP) return failed("the cut download is bootable, or was not kept", &st);
    if (nothing_held("after download 1") || check_download_record(o.key, parts, CUT_AFTER) != 0 ||
        heap_peak_ok(&st, need) != 0)
        return 1;

    /* 5. The link is back. While another transfer holds the record's claim, a download
          stops after its HEAD (which names the record), before any GET and before the
          partition is opened. */
    mini_oss_link_up();
    before = *served;
    reads = ota.reads;
    writes = ota.writes;
    ota.how = -1;                                       /* a partition opened is closed again */
    memcpy(store_claim, "held", 5);
    r = ossr_download(&o, &st);
    store_claim[0] = 0;
    if (r != OSSR_E_BUSY || served->heads != before.heads + 1 || served->gets != before.gets ||
        ota.how != -1 || ota.reads != reads || ota.writes != writes || !flash_live())
        return failed("a download of a held record went on", &st);
    if (nothing_held("after the held download")) return 1;

    /* 6. The call reads the kept ranges back, finds the damaged one, and fetches it and the
          rest; the partition is committed. */
    before = *served;
    reads = ota.reads;
    pool.peak = 0;
    r = ossr_download(&o, &st);
    if (r != OSSR_OK) return failed("the resumed download failed", &st);
    fetched = parts - (CUT_AFTER - 1);
    printf("test_hooks: download 2: resumed %d, ranges %lu: %lu reused, %lu fetched; %lu GETs, %lu object bytes; "
           "%u reads back; heap peak %lu; checkpoint %lu writes, %lu bytes\n", st.resumed,
           (unsigned long)st.parts_total, (unsigned long)st.parts_reused, (unsigned long)st.parts_uploaded,
           served->gets - before.gets, served->get_bytes - before.get_bytes, ota.reads - reads,
           (unsigned long)st.heap_peak, (unsigned long)st.checkpoint_writes, (unsigned long)st.checkpoint_bytes);
    if (st.resumed != 1 || st.parts_reused != CUT_AFTER - 1 || st.parts_uploaded != fetched || st.parts_total != parts)
        return failed("the resumed download did not keep exactly the intact ranges", &st);
    if (ota.reads - reads < CUT_AFTER) return failed("the resume did not read the kept ranges back", &st);
    if (served->heads != before.heads + 1 || served->gets != before.gets + fetched ||
        served->ranges != before.ranges + fetched ||
        served->get_bytes - before.get_bytes != HOOKS_FILE_SIZE - (CUT_AFTER - 1) * PART_SIZE)
        return failed("the resume fetched other ranges than the damaged one and those never fetched", &st);
    if (!ota.bootable || ota.how != OSSR_SINK_COMMIT || ota.size != HOOKS_FILE_SIZE ||
        memcmp(partition, source, HOOKS_FILE_SIZE) != 0)
        return failed("the OTA partition does not hold the source, committed", &st);
    if (st.size != HOOKS_FILE_SIZE || st.crc64 != obj->crc || !st.crc64_verified || strcmp(st.etag, obj->etag) != 0)
        return failed("the status does not describe the object on the server", &st);
    if (flash_live()) return failed("the download's checkpoint is still in the RAM flash after success", &st);
    if (nothing_held("after download 2") || heap_peak_ok(&st, need) != 0) return 1;

    /* 7. A file below the threshold goes in one PutObject. */
    o.file_path = "ram:config.bin";
    o.key = "fleet/0042/config.bin";
    r = ossr_upload(&o, &st);
    if (r != OSSR_OK) return failed("the PutObject upload failed", &st);
    if (st.multipart || served->puts != 1) return failed("the small file did not go in one PutObject", &st);
    if (object_matches(o.key, SMALL_SIZE) != 0 || nothing_held("after upload 3")) return 1;
    if (flash_live()) return failed("PutObject left a checkpoint", &st);

    /* 8. And it comes down in one GET without Range, and no checkpoint. */
    o.file_path = OTA_NAME;
    before = *served;
    writes = flash.writes;
    r = ossr_download(&o, &st);
    if (r != OSSR_OK) return failed("the download of the small object failed", &st);
    if (st.multipart || served->heads != before.heads + 1 || served->gets != before.gets + 1 ||
        served->ranges != before.ranges)
        return failed("the small object did not come down in one GET", &st);
    if (!ota.bootable || ota.size != SMALL_SIZE || memcmp(partition, source, SMALL_SIZE) != 0 ||
        st.size != SMALL_SIZE || st.crc64 != obj->crc || !st.crc64_verified)
        return failed("the OTA partition does not hold the small object, committed", &st);
    if (flash.writes != writes || flash_live()) return failed("a download in one GET wrote a checkpoint", &st);
    if (nothing_held("after download 3")) return 1;
    o.file_path = "ram:config.bin";

    /* 9. A session in a block of its own needs neither an allocator nor opts.workspace,
       in every build (OSSR_NO_MALLOC included); finished before it began, it is a cancel. */
    {
        static union { long double ld; void *p; unsigned char b[POOL_SIZE]; } block;
        ossr_options so = o;
        ossr_session *sess = NULL;
        so.workspace = NULL;
        so.workspace_size = 0;
        so.alloc = NULL;
        so.free = NULL;
        r = ossr_session_init(&sess, &so, block.b, sizeof block.b);
        if (sess) ossr_session_finish(sess, &st);
        if (r != OSSR_OK) return failed("a session in a block of its own was refused", &st);
        if (st.result != OSSR_E_CANCELLED) return failed("a session finished before it began is not a cancel", &st);
    }

    /* 10. The firmware image (as another key) comes down into a partition written front
           to back (in_order); the link fails once in the middle of range 3, which is
           fetched again in the same call. The sink was promised ascending offsets: no
           write may land below one made since it was opened (a partition written as a
           stream would take the range's first half twice). A failure here is said and
           the steps after it still run. */
    {
        ossr_options io = o;
        ossr_sink ordered = ota_sink;
        ossr_transport cut_tp = transport;
        io.file_path = "ram:firmware.img";
        io.key = "fleet/0042/firmware-b.img";
        r = ossr_upload(&io, &st);
        if (r != OSSR_OK || object_matches(io.key, HOOKS_FILE_SIZE) != 0)
            return failed("step 10: the upload of the image failed", &st);
        ordered.open = ordered_open;
        ordered.write_at = ordered_write;
        ordered.in_order = 1;
        cut_tp.recv = cut_once_recv;
        io.sink = &ordered;
        io.transport = &cut_tp;
        io.file_path = OTA_NAME;
        memset(partition, 0xFF, sizeof partition);
        ordered_back = 0;
        recv_cut_armed = 1;
        recv_cut_from = served->get_bytes;
        r = ossr_download(&io, &st);
        printf("test_hooks: in-order download with a receive cut once: %s; %u writes below an earlier one\n",
               ossr_status_format(&st, line, sizeof line), ordered_back);
        if (r != OSSR_OK || recv_cut_armed || !ota.bootable || memcmp(partition, source, HOOKS_FILE_SIZE) != 0)
            return failed("the in-order download did not come whole after one failed receive", &st);
        if (nothing_held("after step 10")) return 1;
        if (ordered_back != 0)
            step_failed = failed("a sink written front to back (in_order) was written below an offset it already took",
                                 &st);
    }

    /* 11. The store's load fails once as a cut upload resumes: the record must not be
           taken for a damaged one and dropped (a second upload begun, the parts on the
           server left behind); then the same as a cut download resumes (the kept ranges
           fetched again, the partition erased). */
    {
        ossr_store flaky;
        ossr_options fo = flaky_options(&o, &flaky, flaky_load, "fleet/0042/firmware-c.img");
        mini_oss_cut_after(CUT_AFTER);
        r = ossr_upload(&fo, &st);
        mini_oss_link_up();
        if (r == OSSR_OK || served->uploads_open != 1 || !flash_live())
            return failed("step 11: the cut upload did not leave one upload and its record", &st);
        load_failures = 1;
        r = ossr_upload(&fo, &st);
        printf("test_hooks: upload with a failing load: %s (resumed %d, %lu reused)\n",
               ossr_status_format(&st, line, sizeof line), st.resumed, (unsigned long)st.parts_reused);
        if (r == OSSR_OK ? !st.resumed || st.parts_reused != CUT_AFTER || served->uploads_open != 0
                         : served->uploads_open != 1 || !flash_live())
            return failed("a load that failed once dropped the upload's record and began another upload", &st);
        if (r != OSSR_OK) {
            load_failures = 0;
            r = ossr_upload(&fo, &st);
            if (r != OSSR_OK || !st.resumed || st.parts_reused != CUT_AFTER || served->uploads_open != 0)
                return failed("the upload after a failed load did not resume its record", &st);
        }
        if (object_matches(fo.key, HOOKS_FILE_SIZE) != 0 || nothing_held("after step 11's upload")) return 1;

        fo.file_path = OTA_NAME;
        mini_oss_cut_get_after(CUT_AFTER);
        r = ossr_download(&fo, &st);
        mini_oss_link_up();
        if (r == OSSR_OK || !flash_live())
            return failed("step 11: the cut download left no record", &st);
        before = *served;
        load_failures = 1;
        r = ossr_download(&fo, &st);
        printf("test_hooks: download with a failing load: %s (resumed %d, %lu reused, %lu GETs)\n",
               ossr_status_format(&st, line, sizeof line), st.resumed, (unsigned long)st.parts_reused,
               served->gets - before.gets);
        if (r == OSSR_OK ? !st.resumed || st.parts_reused != CUT_AFTER || served->gets - before.gets != parts - CUT_AFTER
                         : !flash_live() || served->gets != before.gets)
            return failed("a load that failed once dropped the download's record and fetched its ranges again", &st);
        if (r != OSSR_OK) {
            load_failures = 0;
            r = ossr_download(&fo, &st);
            if (r != OSSR_OK || !st.resumed || st.parts_reused != CUT_AFTER)
                return failed("the download after a failed load did not resume its record", &st);
        }
        if (!ota.bootable || memcmp(partition, source, HOOKS_FILE_SIZE) != 0 || flash_live())
            return failed("step 11: the OTA partition does not hold the source, committed", &st);
        if (nothing_held("after step 11's download")) return 1;
    }
    /* 12. The store's load fails as Complete's body goes out (the slots read a second
           time): the call ends as the checkpoint's failure, not as the caller's, and the
           next call completes. */
    {
        ossr_store flaky;
        ossr_options fo = flaky_options(&o, &flaky, slot_flaky_load, "fleet/0042/firmware-d.img");
        slot_loads = 0;
        slot_fail_at = 3;   /* 25 parts: two loads size the body, the third makes it */
        r = ossr_upload(&fo, &st);
        printf("test_hooks: upload whose store fails as Complete goes out: %s\n", ossr_status_format(&st, line, sizeof line));
        if (r != OSSR_E_CHECKPOINT || slot_loads < 3)
            return failed("step 12: a slot not read again for Complete was not said as the checkpoint's failure", &st);
        slot_fail_at = 0;
        mini_oss_expect_refusals(1);   /* Complete was sent: the resume HEADs the object, not there yet */
        r = ossr_upload(&fo, &st);
        if (r != OSSR_OK || !st.resumed || object_matches(fo.key, HOOKS_FILE_SIZE) != 0)
            return failed("step 12: the call after did not complete the upload", &st);
        if (nothing_held("after step 12")) return 1;
    }
    if (step_failed) return 1;

    printf("test_hooks: %lu requests over %lu connections (%lu GETs, %lu bytes); pool %u blocks taken and "
           "returned; flash %u writes, %u syncs, %u removes; file %u reads; OTA partition %u writes, %u reads; "
           "fake clock %ld ms\n", served->requests, served->connects, served->gets, served->get_bytes, pool.allocs,
           flash.writes, flash.syncs, flash.removes, file_stats.reads, ota.writes, ota.reads, (long)clock_ms);
    printf("test_hooks: uploaded %lu bytes in %lu parts, resumed after a cut, object matches\n",
           (unsigned long)HOOKS_FILE_SIZE, (unsigned long)parts);
    printf("test_hooks: downloaded %lu bytes in %lu ranges, resumed after a cut and a damaged range, image matches, "
           "bootable\n", (unsigned long)HOOKS_FILE_SIZE, (unsigned long)parts);
    return 0;
}
