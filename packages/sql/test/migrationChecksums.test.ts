/**
 * Released migrations are frozen: each executes, per dialect, exactly the SQL it was released with,
 * so fresh and upgraded databases have one schema. The checksums below fix that SQL (for the example
 * prefix); a schema change is a new migration, whose checksum is added here when it is released.
 */
import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import type { Migration } from "../src/internal/dialect.js"
import * as mysql from "../src/internal/mysql/migrations.js"
import * as postgres from "../src/internal/postgres/migrations.js"
import * as sqlite from "../src/internal/sqlite/migrations.js"

/** The prefix the checksums are computed for. */
const examplePrefix = "jobss_"

/** sha256 of each released migration's statements joined by `;\n`, by dialect folder and `<id>_<name>`. */
const released: Record<string, Record<string, string>> = {
  postgres: {
    "1_create_tables": "2ad04ca2539b6352b18371200170bd63a4010be67642b16a554c75fb1a7409c7",
    "2_run_history": "a7c62e35e98db7b548629eb535c274967b3532937e7412363d3f8a060b8de5e7",
    "3_lean_indexes": "375ea623c42be05dc32b16191b2ccce6089da1257f93900019d7ea5814197442",
    "4_claim_function": "979dae7c9025ca7b85ece41993269bb8e04e78d9353952943ac2efe5ea0ec9ef",
    "5_finished_index": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6_results_and_snoozes": "d837e1362380ed940ec8ff0c16a42616c5903482ca9ab66b2c936cd385f96164",
    "7_leader": "e085b59807eac792265e321ac5da29190309775d3340d19a58aa9533915f9565",
    "8_dispatched": "24f96a25df8d1e5418eea6cdf6208b5a74a8e1e027421dbda108c762d7596072",
    "10_admin": "81ca30b9683810f630558e991502cba4e6426774ef649666209bb42d5fd7b2c3",
    "11_admin_queues": "7ae07bed25fe567ae4d210365d7fa8620230fc19cb6852ba7d45a78faba01f2c",
    "12_run_stage": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "13_partition_heads": "5a27e7708b88ac0416f30cd3b031dee6dbfa96afeae4d1e5316cec302684d6ee",
    "14_admin_without_running": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "9_queues": "2b9117247adc9b57fa4e296ac31b7a2f7bd4c92f90677760fa2954a55f89d22b"
  },
  mysql: {
    "1_create_tables": "9a4193ba7c31600a9c5143c4ad3fd9f8075146646aed1ccd3ee12c3196f5cec4",
    "2_run_history": "37edc9885325340a9bb201ff0769f588a3c44cabf135ab0e80ece3fc3018b1ea",
    "3_lean_indexes": "8bbbb2134995c7bb119fe408bca0140f73af462477874ccdb27a09ec55212e9a",
    "4_claim_function": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "5_finished_index": "ac08c9d1b08bdffe7c159ce643e99767d32f936d758d88b52cc20cd51bff342f",
    "6_results_and_snoozes": "314aafe33360c43eec08ea2146731f9df5a908389e770f7cdf02d7ca1000cec4",
    "7_leader": "11f8b94ee84ee41079c29f86988412c00b6c5108e2143da80d28e49629c5350a",
    "8_dispatched": "ab90b906691880671f06a9ce7b59e56e78446357477a5e0cee55286278c708dc",
    "10_admin": "57919c0dc0fe8b7d58c8344294eab0e618051bcbc6ad51940565d56a775db9d9",
    "11_admin_queues": "78fe22a24370abe617f51aff927abcf412e8b3d223c93a9dba086b0ddf68937e",
    "12_run_stage": "98c2dcde715c2efc0d8082be0b29bed475a02894b89ca00228717ab133cd2c51",
    "13_partition_heads": "0a18dc3f7f17637cfec878f32a3f732c2354c35dc2596981ca5051f875bbae6f",
    "14_admin_without_running": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "9_queues": "62ce14a10c99d64ee118d3d9e7051ef325be3a6fac74f17b00f57daa7e9d6ceb"
  },
  sqlite: {
    "1_create_tables": "dc9517a3860b83f50d72dc873396e242b2e39ab7bc00626d61c099420f8bd35b",
    "2_run_history": "086a6e53a36e92e89179e1d2601ca4d0e58cf40ba4af50bbfeae343ee5d643bf",
    "3_lean_indexes": "375ea623c42be05dc32b16191b2ccce6089da1257f93900019d7ea5814197442",
    "4_claim_function": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "5_finished_index": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6_results_and_snoozes": "850cca8b3af84c1b8f5b27ce70f8e76253356280b1702fafa81f8f9b8447a423",
    "7_leader": "34e8685dbd214bd720398d6758a8cd144371db91e57cbe853b20c816abf42f13",
    "8_dispatched": "d21ffa505e4be71d556ff688965184694199d80bc32829289f43016c475beb31",
    "10_admin": "81ca30b9683810f630558e991502cba4e6426774ef649666209bb42d5fd7b2c3",
    "11_admin_queues": "7ae07bed25fe567ae4d210365d7fa8620230fc19cb6852ba7d45a78faba01f2c",
    "12_run_stage": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "13_partition_heads": "4a46141f43f9ef35cc96595d1079c02a4b0fde4410e8cf69b09d755c3f9af4a6",
    "14_admin_without_running": "55f85836e0cf9b734906d6d485a7f0d36c6c3f35bd6067c86ee43d2f65a35fe7",
    "9_queues": "e3d779754c70e8d2d71abc6cbbf642062157772249615e609119ce7b49e7ea9a"
  }
}

const dialects: ReadonlyArray<readonly [string, (prefix: string) => ReadonlyArray<Migration>]> = [
  ["postgres", postgres.migrations],
  ["mysql", mysql.migrations],
  ["sqlite", sqlite.migrations]
]

const keyOf = (migration: Migration): string => `${migration.id}_${migration.name}`

const checksum = (migration: Migration): string =>
  createHash("sha256").update(migration.statements.join(";\n")).digest("hex")

describe.each(dialects)("released migrations of %s", (folder, migrationsFor) => {
  const current = migrationsFor(examplePrefix)
  const checksums = new Map(current.map((migration) => [keyOf(migration), checksum(migration)]))

  it(`every released migration executes the SQL it was released with (${folder})`, () => {
    for (const [key, expected] of Object.entries(released[folder]!)) {
      const found = checksums.get(key)
      expect(
        found,
        `${folder} migration ${key} ${found === undefined ? "is gone" : "was edited"}: a released migration ` +
          "never changes (a database that already applied it would differ from a fresh one). Restore " +
          `src/internal/${folder}/migrations/ and add a new migration instead.`
      ).toBe(expected)
    }
  })

  it(`every migration has its checksum here (${folder})`, () => {
    const unrecorded = [...checksums]
      .filter(([key]) => released[folder]![key] === undefined)
      .map(([key, found]) => `"${key}": "${found}"`)
    expect(
      unrecorded,
      `${folder} migrations without a checksum in this test: once final, add ${unrecorded.join(", ")} to ` +
        "`released`, which freezes them (later schema changes are new migrations)."
    ).toEqual([])
  })

  it(`the table prefix is the only parameter of the SQL (${folder})`, () => {
    const other = migrationsFor("other_prefix_")
    expect(other.map((migration) => migration.statements)).toEqual(
      current.map((migration) =>
        migration.statements.map((statement) => statement.replaceAll(examplePrefix, "other_prefix_"))
      )
    )
  })

  it(`ids count up from 1 with the names every dialect records (${folder})`, () => {
    expect(current.map(keyOf)).toEqual(postgres.migrations(examplePrefix).map(keyOf))
    expect(current.map((migration) => migration.id)).toEqual(current.map((_, index) => index + 1))
  })
})
