/* test_hooks.c - the hooks example's upload, checked in full.

   It includes examples/hooks.c, hooks and all (the example's main is renamed and not
   called), and runs the upload through those hooks against tests/mini_oss.h:
     1. the link drops half-way through the part after CUT_AFTER: the call fails with a
        network error; the record left in the RAM flash names the server's upload, each
        part slot with the ETag the server gave that part; nothing is held; the library's
        heap peak is what went through the pool, within ossr_workspace_size(); then a
        power cut tears the slot of TORN_PART;
     2. while another upload holds the record's claim, a call stops before any request;
     3. the next call resumes, keeping exactly the parts the server has (ListParts paged),
        and completes; the object equals the source, the status describes it, no
        checkpoint and no open upload are left;
     4. a file below the threshold goes up in one PutObject.
   It builds as the example does: as it is, with the four NO_ switches, and with
   OSSR_NO_MALLOC too (make hooks), and for a Cortex-M4 run in qemu (tests/matrix.sh).
   Any failure ends it with a message and exit status 1. */
#define main hooks_example_main
int hooks_example_main(void);
#include "../examples/hooks.c"
#undef main

#define TORN_PART 4u                  /* the part whose checkpoint slot a power cut tears */

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

/* The scenario, steps 1 to 4 above; exit status 0 when every check passes. */
int main(void) {
    const mini_oss_config server = { KEY_ID, clock_unix, clock_sleep, NULL };
    const mini_oss_counts *served = mini_oss_count();
    ossr_options o;
    ossr_status st;
    ossr_result r;
    size_t need;
    uint64_t part_size;
    uint32_t parts;
    char line[768];

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
    r = ossr_upload(&o, &st);
    if (r == OSSR_OK) return failed("the upload succeeded although the link was cut", &st);
    if (r != OSSR_E_CONNECT && r != OSSR_E_SEND && r != OSSR_E_RECV)
        return failed("the cut upload failed with an unexpected result", &st);
    printf("test_hooks: upload 1 failed as planned: %s\n", ossr_status_format(&st, line, sizeof line));
    if (served->parts_stored < CUT_AFTER) return failed("the server stored fewer parts than planned", &st);
    if (nothing_held("after upload 1") || check_record() != 0 || heap_peak_ok(&st, need) != 0) return 1;

    /* 2. While another upload holds the record's claim, a second one stops before any request. */
    {
        unsigned long before = served->requests;
        memcpy(store_claim, "held", 5);
        r = ossr_upload(&o, &st);
        store_claim[0] = 0;
        if (r != OSSR_E_BUSY || served->requests != before)
            return failed("a second upload of a held record went on", &st);
    }

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

    /* 4. A file below the threshold goes in one PutObject. */
    o.file_path = "ram:config.bin";
    o.key = "fleet/0042/config.bin";
    r = ossr_upload(&o, &st);
    if (r != OSSR_OK) return failed("the PutObject upload failed", &st);
    if (st.multipart || served->puts != 1) return failed("the small file did not go in one PutObject", &st);
    if (object_matches(o.key, SMALL_SIZE) != 0 || nothing_held("after upload 3")) return 1;
    if (flash_live()) return failed("PutObject left a checkpoint", &st);

    /* 5. A session in a block of its own needs neither an allocator nor opts.workspace,
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

    printf("test_hooks: %lu requests over %lu connections; pool %u blocks taken and returned; flash %u writes, "
           "%u syncs, %u removes; file %u reads; fake clock %ld ms\n", served->requests, served->connects,
           pool.allocs, flash.writes, flash.syncs, flash.removes, file_stats.reads, (long)clock_ms);
    printf("test_hooks: uploaded %lu bytes in %lu parts, resumed after a cut, object matches\n",
           (unsigned long)HOOKS_FILE_SIZE, (unsigned long)parts);
    return 0;
}
