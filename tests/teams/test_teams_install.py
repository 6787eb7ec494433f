"""Installing the bot and people joining: references stored, neutral events reach the core."""

from __future__ import annotations

from bot.kernel.events import AppInstalledEvent, MemberJoinedEvent
from storage.tables import ConversationAddress, User, Workspace
from tests.teams.teams_harness import Harness


async def test_bot_added_to_team_stores_channel_reference_and_announces_install(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        status, _ = await h.post(h.activity("conversationUpdate_bot_added_to_team"))
        assert status == 201
        [address] = await h.rows(ConversationAddress)
        assert address.scope == "channel"
        assert address.conversation_id == "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
        assert address.reference["serviceUrl"] == h.connector.service_url
        assert address.reference["tandem"]["team_id"] == "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2"
        [ws] = await h.rows(Workspace)
        assert (ws.platform, ws.external_id) == ("teams", "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f")
        [event] = h.core.events
        assert isinstance(event, AppInstalledEvent)
        assert event.scope == "team" and event.channel_id == "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
        assert event.actor.workspace_id == "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"

        # the installationUpdate Teams sends for the same install is not a second install
        status, _ = await h.post(h.activity("installationUpdate_add"))
        assert status == 201
        assert len(h.core.events) == 1
        assert await h.count(ConversationAddress) == 1


async def test_bot_added_in_personal_chat_stores_the_users_reference(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("conversationUpdate_bot_added_personal")
        raw["conversation"]["id"] = "a:personal-1"
        raw["channelData"]["tenant"]["id"] = "tenant-personal"
        raw["membersAdded"][0]["id"] = raw["recipient"]["id"] = "28:bot-app"
        status, _ = await h.post(raw)
        assert status == 201
        [address] = await h.rows(ConversationAddress)
        [user] = await h.rows(User)
        assert address.scope == "personal" and address.user_id == user.id
        assert user.platform_user_id == "29:<USERID>"
        [event] = h.core.events
        assert isinstance(event, AppInstalledEvent) and event.scope == "personal"


async def test_member_added_to_team_is_looked_up_and_joins(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("conversationUpdate_teamMemberAdded_user")
        new = h.connector.members[0]  # the recorded Jordan Kim
        raw["membersAdded"] = [{"id": new["id"], "aadObjectId": new["objectId"]}]
        status, _ = await h.post(raw)
        assert status == 201
        lookups = h.connector.calls_to("GET", f"/members/{new['id']}")
        assert len(lookups) == 1
        joined = [e for e in h.core.events if isinstance(e, MemberJoinedEvent)]
        assert [e.actor.user_id for e in joined] == [new["id"]]
        assert joined[0].actor.email == "jordank@contoso.example"
        assert joined[0].channel_id == "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
        users = {u.platform_user_id: u for u in await h.rows(User)}
        assert users[new["id"]].email == "jordank@contoso.example"


async def test_member_lookup_failure_does_not_fail_the_turn(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        raw = h.activity("conversationUpdate_groupChat_membersAdded")
        h.connector.fail("GET", "/members/", 500, '{"error":{"code":"ServiceError","message":"boom"}}')
        status, _ = await h.post(raw)
        assert status == 201
        assert [type(e).__name__ for e in h.core.events] == ["MemberJoinedEvent"]


async def test_member_removed_leaves_and_bot_removed_marks_channel_gone(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("conversationUpdate_bot_added_to_team")))[0] == 201
        raw = h.activity("conversationUpdate_bot_added_to_team")
        raw.pop("membersAdded")
        raw["membersRemoved"] = [{"id": "29:someone", "aadObjectId": "a1"}]
        raw["channelData"]["eventType"] = "teamMemberRemoved"
        assert (await h.post(raw))[0] == 201
        left = h.core.events[-1]
        assert type(left).__name__ == "MemberLeftEvent" and left.actor.user_id == "29:someone"
        raw["membersRemoved"] = [{"id": raw["recipient"]["id"]}]
        assert (await h.post(raw))[0] == 201
        [address] = await h.rows(ConversationAddress)
        assert address.gone is True


async def test_installation_update_remove_marks_gone_and_add_brings_it_back(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("installationUpdate_add")))[0] == 201
        assert [type(e).__name__ for e in h.core.events] == ["AppInstalledEvent"]
        assert (await h.post(h.activity("installationUpdate_add", action="remove")))[0] == 201
        [address] = await h.rows(ConversationAddress)
        assert address.gone is True
        assert (await h.post(h.activity("installationUpdate_add", action="add")))[0] == 201
        [address] = await h.rows(ConversationAddress)
        assert address.gone is False
        assert [type(e).__name__ for e in h.core.events] == ["AppInstalledEvent", "AppInstalledEvent"]


async def test_new_team_member_is_announced_to_every_known_channel_of_the_team(db, tmp_path):
    async with Harness(db, tmp_path) as h:
        assert (await h.post(h.activity("conversationUpdate_bot_added_to_team")))[0] == 201
        installed = h.activity("conversationUpdate_bot_added_to_team")
        raw = h.activity("conversationUpdate_teamMemberAdded_user")
        raw["channelData"] = installed["channelData"]  # same tenant and team, reported on the general channel
        raw["conversation"] = {**installed["conversation"], "id": "19:general@thread.tacv2"}
        raw["recipient"] = installed["recipient"]
        new = h.connector.members[0]
        raw["membersAdded"] = [{"id": new["id"], "aadObjectId": new["objectId"]}]
        assert (await h.post(raw))[0] == 201
        joined = [e for e in h.core.events if isinstance(e, MemberJoinedEvent)]
        assert sorted(e.channel_id for e in joined) == [
            "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2",
            "19:general@thread.tacv2",
        ]
        assert {e.actor.user_id for e in joined} == {new["id"]}
