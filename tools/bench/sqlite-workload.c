/*
 * A short SQL workload over SQLite's amalgamation, for tools/bench/startup.ts: a large
 * real C code base (about 1.1 MB of Wasm) whose run is short, so that start-up (decode,
 * validation, the native tier's rewrite or its disk cache) is most of the time. Given a
 * number of rows (default 2,000), it runs as long as one wants: tools/bench/programs.ts
 * times the interpreter against V8 on it, a program wasmig's interpreter was not tuned on.
 * Built by tools/bench/build-sqlite.sh; the amalgamation is not kept in this repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static int row(void *unused, int n, char **values, char **names) {
  (void)unused;
  (void)names;
  for (int i = 0; i < n; i++) printf("%s%s", i ? " " : "", values[i] ? values[i] : "NULL");
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  long rows = argc > 1 ? strtol(argv[1], 0, 10) : 2000;
  if (rows < 1 || rows > 100000000) {
    fprintf(stderr, "sqlite-workload: rows must be 1 to 100000000, not %s\n", argv[1]);
    return 2;
  }
  sqlite3 *db;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
  char sql[1024];
  snprintf(sql, sizeof sql,
    // In memory: the sort of a large index spills to temporary files otherwise, and a
    // program without a preopened directory has none.
    "PRAGMA temp_store = MEMORY;"
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
    "  INSERT INTO t SELECT i, printf('row %%d', i * 7919 %% 1000), i * 0.5 FROM n;"
    "CREATE INDEX tb ON t(b);"
    "SELECT count(*), sum(c), min(b), max(b) FROM t;"
    "SELECT b, count(*) FROM t GROUP BY b ORDER BY count(*) DESC, b LIMIT 3;", rows);
  char *err = 0;
  printf("sqlite %s\n", sqlite3_libversion());
  fflush(stdout);
  if (sqlite3_exec(db, sql, row, 0, &err) != SQLITE_OK) {
    printf("error: %s\n", err);
    return 1;
  }
  sqlite3_close(db);
  return 0;
}
