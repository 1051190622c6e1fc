-- R-OPEN-4: when each bidder began decrypting (its first fetch of the sealed kb during the
-- window), beside when it finished.
ALTER TABLE opening_bids ADD COLUMN decrypt_started_at INTEGER;
