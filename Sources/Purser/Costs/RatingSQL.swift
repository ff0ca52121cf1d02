// How an event is priced, written once as SQL for ingest and for re-rating, so both give the same
// micro-unit. An event of relation `s` (kind, provider, item, occurred_at, token counts, gpu_seconds)
// matches at most one negotiated price of its tenant, else at most one list price, and at most one
// markup: effective periods never overlap (exclusion constraints), so the joins add no rows.
//
// cost = round_half_even(list amount × (10000 + markup_bp) / 10000), computed in numeric and rounded
// once, to a whole micro-unit; a negotiated price is the tenant's own and takes no markup. The
// division is written with a divisor of 20 decimals so that PostgreSQL keeps at least 20: a quotient
// of integers over a divisor of at most 3.6e10 is either exactly half-way or at least 1.4e-11 from
// it, so rounding half to even decides as exact rational arithmetic would (docs/costs.md).
enum RatingSQL {
    /// The joins; `$tenant` and `$currency` are the placeholders of the statement using them.
    static func joins(tenant: String, currency: String) -> String {
        """
        LEFT JOIN tenant_prices tp ON tp.tenant_id = \(tenant) AND tp.kind = s.kind AND tp.provider = s.provider
             AND tp.item = s.item AND tp.currency = \(currency)
             AND tp.effective_from <= s.occurred_at AND (tp.effective_to IS NULL OR s.occurred_at < tp.effective_to)
        LEFT JOIN prices lp ON tp.id IS NULL AND lp.kind = s.kind AND lp.provider = s.provider
             AND lp.item = s.item AND lp.currency = \(currency)
             AND lp.effective_from <= s.occurred_at AND (lp.effective_to IS NULL OR s.occurred_at < lp.effective_to)
        LEFT JOIN tenant_markups mk ON mk.tenant_id = \(tenant)
             AND mk.effective_from <= s.occurred_at AND (mk.effective_to IS NULL OR s.occurred_at < mk.effective_to)
        """
    }

    /// The amount before rounding as an integer numerator over `divisor`, for price `p`: tokens ×
    /// micro-units per million over 10^6, or GPU-milliseconds × micro-units per hour over 3.6 × 10^6.
    private static func amount(_ p: String) -> String {
        """
        (CASE s.kind WHEN 'tokens'
              THEN s.input_tokens::numeric * \(p).input_per_million + s.output_tokens::numeric * \(p).output_per_million
                   + s.cached_input_tokens::numeric * coalesce(\(p).cached_input_per_million, \(p).input_per_million)
              ELSE s.gpu_seconds * 1000 * \(p).per_gpu_hour END)
        """
    }

    /// The divisor, with 20 decimals so that the quotient keeps at least 20.
    private static let divisor = "(CASE s.kind WHEN 'tokens' THEN 1000000 ELSE 3600000 END)::numeric(40, 20)"

    /// `new_cost`, `new_price`, `new_negotiated`, `new_markup`: the rating of `s`.
    static let columns = """
        CASE WHEN tp.id IS NOT NULL THEN round_half_even(\(amount("tp")) / \(divisor))
             WHEN lp.id IS NOT NULL
             THEN round_half_even(\(amount("lp")) * (10000 + coalesce(mk.markup_bp, 0)) / (\(divisor) * 10000))
        END AS new_cost,
        coalesce(tp.id, lp.id) AS new_price, tp.id IS NOT NULL AS new_negotiated,
        CASE WHEN tp.id IS NULL AND lp.id IS NOT NULL THEN coalesce(mk.markup_bp, 0) END AS new_markup
        """
}
