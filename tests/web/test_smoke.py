from actors import local


async def test_group_resolves(client, services):
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="gardeners", title="Garden people"))
    resp = await client.get("/.well-known/webfinger", params={"resource": "acct:gardeners@node.test"})
    assert resp.status == 200, await resp.text()
    jrd = await resp.json()
    href = [l for l in jrd["links"] if l["rel"] == "self"][0]["href"]
    assert href == "https://node.test/groups/gardeners"
    resp = await client.get("/groups/gardeners", headers={"Accept": "application/activity+json"})
    doc = await resp.json(content_type=None)
    assert doc["type"] == "Group"
    resp = await client.get("/nodeinfo/2.1")
    assert resp.status == 200, await resp.text()
    resp = await client.get("/")
    assert "Garden people" in await resp.text()
