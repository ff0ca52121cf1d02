-- Why: the `admin` scope was checked by no route, so it granted nothing and promised something;
-- it is gone from Purser. Tokens that carried it keep working: the name is taken out of their
-- scope lists. A token whose only scope was `admin` keeps its list as it is (a token needs at
-- least one scope), since unknown names are ignored when a token is read: it goes on answering
-- /api/v1/me and listing its owner's tokens, all it could ever do.
UPDATE api_tokens SET scopes = array_remove(scopes, 'admin')
WHERE 'admin' = ANY (scopes) AND cardinality(array_remove(scopes, 'admin')) > 0;
