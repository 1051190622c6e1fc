-- The account a payment was made into (digits), as the purchasing unit records it: a
-- financed contract's payments must name the financing account (docs/financing.md).
ALTER TABLE payment_requests ADD COLUMN paid_account TEXT;
