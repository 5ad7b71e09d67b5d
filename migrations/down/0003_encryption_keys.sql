-- Dropping the keys would make every encrypted value unreadable for good: refuse while there are any.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM "encryption_keys") THEN
    RAISE EXCEPTION 'encryption_keys holds data keys: reverting would make every encrypted value unreadable (delete the keys by hand if that is intended)';
  END IF;
END $$;
DROP TABLE "encryption_keys";
