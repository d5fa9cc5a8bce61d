-- The built-in chart annotations: dates where the world or a counting method changed, so a
-- chart's jumps come with their explanation. Operators add their own with kind 'operator'.
-- Never edit this file once landed: add a migration.
INSERT INTO annotations (date, title, description, kind, source_url) VALUES
('2022-04-25', 'Twitter accepts Elon Musk''s offer',
 'Twitter''s board agreed to the takeover; the first wave of sign-ups on Mastodon followed.',
 'built_in', 'https://en.wikipedia.org/wiki/Acquisition_of_Twitter_by_Elon_Musk'),
('2022-10-27', 'Twitter takeover completed',
 'Elon Musk completed the acquisition of Twitter. The largest migration to the fediverse so far began: Mastodon went from about 300,000 to about 2.5 million monthly active users within weeks.',
 'built_in', 'https://en.wikipedia.org/wiki/Acquisition_of_Twitter_by_Elon_Musk'),
('2022-11-21', 'instances.social changes its counting method',
 'instances.social changed how it counts instances and users; series compared with its figures jump at this date for that reason, not because the fediverse changed.',
 'built_in', 'https://instances.social'),
('2023-06-12', 'Reddit API protest blackout',
 'Thousands of subreddits went dark over Reddit''s API pricing; Lemmy and kbin servers grew quickly.',
 'built_in', 'https://en.wikipedia.org/wiki/2023_Reddit_API_controversy'),
('2023-07-01', 'Twitter limits how many posts users can read',
 'Temporary reading limits on Twitter drove another wave of sign-ups on fediverse servers.',
 'built_in', 'https://en.wikipedia.org/wiki/Twitter_under_Elon_Musk'),
('2023-07-05', 'Threads launches',
 'Meta launched Threads and announced that it would federate over ActivityPub.',
 'built_in', 'https://en.wikipedia.org/wiki/Threads_(social_network)'),
('2024-03-21', 'Threads begins testing federation',
 'Threads started letting some accounts federate their posts over ActivityPub.',
 'built_in', 'https://en.wikipedia.org/wiki/Threads_(social_network)');
