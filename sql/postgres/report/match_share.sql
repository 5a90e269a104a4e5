-- How much listening the catalogue explains: plays matched to a catalogue song.
SELECT count(*) AS plays, count(p.song_id) AS matched, count(*) - count(p.song_id) AS unmatched,
       round(100.0 * count(p.song_id) / NULLIF(count(*), 0), 1) AS matched_pct
FROM songplays p;
