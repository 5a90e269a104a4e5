-- How much listening the catalogue explains: plays matched to a catalogue song.
-- The percentage is cast to DECIMAL(4, 1), so that it shows one decimal as PostgreSQL's
-- round(numeric, 1) does, whatever scale Redshift gives the quotient.
SELECT count(*) AS plays, count(p.song_id) AS matched, count(*) - count(p.song_id) AS unmatched,
       CAST(ROUND(100.0 * count(p.song_id) / NULLIF(count(*), 0), 1) AS DECIMAL(4, 1)) AS matched_pct
FROM songplays p;
