-- The declaration of no conflict (回避承诺) an expert signed to take the seat: JSON
-- {key_id, signature, at}.
ALTER TABLE evaluation_panel ADD COLUMN declaration TEXT;
