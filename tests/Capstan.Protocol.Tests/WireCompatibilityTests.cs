namespace Capstan.Protocol.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Wire = Capstan.Protocol.Wire;

/// <summary>The wire matches TiCDC's schedulepb/tablepb field for field; legacy fields work as TiCDC's compat layer expects.</summary>
public class WireCompatibilityTests
{
    /// <summary>TiCDC's field numbers and types (spec §0.6), plus Capstan's Stats.write_keys_per_second.</summary>
    private static readonly Dictionary<string, string[]> TiCdcFields = new()
    {
        ["Message"] = ["header=1:Message", "msg_type=2:Enum", "from=3:String", "to=4:String", "dispatch_table_request=5:Message",
            "dispatch_table_response=6:Message", "heartbeat=7:Message", "heartbeat_response=8:Message"],
        ["Header"] = ["version=1:String", "owner_revision=2:Message", "processor_epoch=3:Message", "changefeed_epoch=4:Message"],
        ["OwnerRevision"] = ["revision=1:Int64"],
        ["ProcessorEpoch"] = ["epoch=1:String"],
        ["ChangefeedEpoch"] = ["epoch=1:UInt64"],
        ["Span"] = ["table_id=1:Int64", "start_key=2:Bytes", "end_key=3:Bytes"],
        ["Checkpoint"] = ["checkpoint_ts=1:UInt64", "resolved_ts=2:UInt64", "last_synced_ts=3:UInt64"],
        ["Stats"] = ["region_count=1:UInt64", "current_ts=2:UInt64", "stage_checkpoints=3:Message", "barrier_ts=4:UInt64",
            "write_keys_per_second=5:UInt64"],
        ["TableStatus"] = ["table_id=1:Int64", "span=5:Message", "state=2:Enum", "checkpoint=3:Message", "stats=4:Message"],
        ["AddTableRequest"] = ["table_id=1:Int64", "span=4:Message", "is_secondary=2:Bool", "checkpoint=3:Message"],
        ["RemoveTableRequest"] = ["table_id=1:Int64", "span=2:Message"],
        ["DispatchTableRequest"] = ["add_table=1:Message", "remove_table=2:Message"],
        ["AddTableResponse"] = ["status=1:Message", "checkpoint=2:Message"],
        ["RemoveTableResponse"] = ["status=1:Message", "checkpoint=2:Message"],
        ["DispatchTableResponse"] = ["add_table=1:Message", "remove_table=2:Message"],
        ["TableBarrier"] = ["table_id=1:Int64", "barrier_ts=2:UInt64"],
        ["Barrier"] = ["table_barriers=1:Message", "global_barrier_ts=2:UInt64"],
        ["Heartbeat"] = ["table_ids=1:Int64", "is_stopping=2:Bool", "spans=3:Message", "collect_stats=4:Bool", "barrier=5:Message"],

        // TiCDC declares liveness as int32; an enum has the same varint encoding.
        ["HeartbeatResponse"] = ["tables=1:Message", "liveness=2:Enum"],
    };

    [Fact(DisplayName = "Every field of schedule.proto has TiCDC's number and wire type, and there are no others")]
    public void ScheduleProto_FieldNumbers_MatchTiCdc()
    {
        var messages = Wire.ScheduleReflection.Descriptor.MessageTypes;
        Assert.Equal(TiCdcFields.Keys.Order(StringComparer.Ordinal), messages.Select(m => m.Name).Order(StringComparer.Ordinal));
        foreach (var message in messages)
        {
            var actual = message.Fields.InDeclarationOrder().Select(f => $"{f.Name}={f.FieldNumber}:{f.FieldType}");
            Assert.Equal(TiCdcFields[message.Name].Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        }
    }

    [Fact(DisplayName = "Enum numbers match TiCDC: TableState 0..6, Liveness Alive=0/Stopping=1, MessageType 0..4")]
    public void ScheduleProto_EnumNumbers_MatchTiCdc()
    {
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], Enum.GetValues<Wire.TableState>().Select(v => (int)v));
        Assert.Equal([0, 1], Enum.GetValues<Wire.Liveness>().Select(v => (int)v));
        Assert.Equal([0, 1, 2, 3, 4], Enum.GetValues<Wire.MessageType>().Select(v => (int)v));
    }

    [Fact(DisplayName = "A span status encodes to the bytes TiCDC's field numbers give")]
    public void TableStatus_Encoding_IsTheExpectedBytes()
    {
        var status = new TableStatus(new Span(5, "a"u8.ToArray(), "b"u8.ToArray()), TableState.Replicating, new Checkpoint(1, 2, 3));

        byte[] bytes = WireMapping.ToWire(status).ToByteArray();

        byte[] expected =
        [
            0x08, 0x05,                                     // table_id (1) = 5, legacy
            0x10, 0x04,                                     // state (2) = Replicating
            0x1A, 0x06, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, // checkpoint (3) = {1, 2, 3}
            0x2A, 0x08, 0x08, 0x05, 0x12, 0x01, 0x61, 0x1A, 0x01, 0x62, // span (5) = {5, "a", "b"}
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact(DisplayName = "Stats.write_keys_per_second is field 5; current_ts is never written")]
    public void Stats_WriteKeysPerSecond_IsFieldFive()
    {
        var stats = new Stats { WriteKeysPerSecond = 300 };

        Assert.Equal(new byte[] { 0x28, 0xAC, 0x02 }, WireMapping.ToWire(stats).ToByteArray());
    }

    [Fact(DisplayName = "Legacy table ids are written from the spans, as TiCDC's compat layer does before sending")]
    public void ToWire_LegacyTableIds_AreFilledFromSpans()
    {
        var add = WireMapping.ToWire(new AddTableRequest(TableSpans.WholeTable(11), true, default));
        var remove = WireMapping.ToWire(new RemoveTableRequest(TableSpans.WholeTable(12)));
        var status = WireMapping.ToWire(new TableStatus(TableSpans.WholeTable(13), TableState.Absent, default));
        var heartbeat = WireMapping.ToWire(new Heartbeat { Spans = [TableSpans.WholeTable(14), new Span(15)] });

        Assert.Equal(11, add.TableId);
        Assert.Equal(12, remove.TableId);
        Assert.Equal(13, status.TableId);
        Assert.Equal([14L, 15L], heartbeat.TableIds);
    }

    [Fact(DisplayName = "A peer that sends only legacy table ids is understood: whole-table spans are used")]
    public void FromWire_LegacyTableIdsOnly_GiveWholeTableSpans()
    {
        var heartbeat = new Wire.Heartbeat { TableIds = { 3, 4 } };
        var status = new Wire.TableStatus { TableId = 5, State = Wire.TableState.Replicating };
        var add = new Wire.AddTableRequest { TableId = 6, IsSecondary = true };
        var remove = new Wire.RemoveTableRequest { TableId = 7 };

        Assert.Equal([TableSpans.WholeTable(3), TableSpans.WholeTable(4)], WireMapping.FromWire(heartbeat).Spans);
        Assert.Equal(TableSpans.WholeTable(5), WireMapping.FromWire(status).Span);
        Assert.Equal(TableSpans.WholeTable(6), WireMapping.FromWire(add).Span);
        Assert.Equal(TableSpans.WholeTable(7), WireMapping.FromWire(remove).Span);
    }

    [Fact(DisplayName = "When a span is present the legacy table id is ignored")]
    public void FromWire_SpanAndLegacyId_SpanWins()
    {
        var status = new Wire.TableStatus { TableId = 99, Span = new Wire.Span { TableId = 5 } };
        var heartbeat = new Wire.Heartbeat { TableIds = { 99 }, Spans = { new Wire.Span { TableId = 5 } } };

        Assert.Equal(new Span(5), WireMapping.FromWire(status).Span);
        Assert.Equal([new Span(5)], WireMapping.FromWire(heartbeat).Spans);
    }

    [Fact(DisplayName = "Missing checkpoints and identities read as zero, as proto3 defaults")]
    public void FromWire_MissingOptionalParts_ReadAsZero()
    {
        var header = WireMapping.FromWire(new Wire.Header { Version = "v" });
        var status = WireMapping.FromWire(new Wire.TableStatus { Span = new Wire.Span { TableId = 1 } });

        Assert.Equal(new Header("v", new OwnerRevision(0), ProcessorEpoch.None, new ChangefeedEpoch(0)), header);
        Assert.Equal(default, status.Checkpoint);
        Assert.Null(status.Stats);
    }

    [Fact(DisplayName = "TiCDC's deprecated Stats.current_ts is ignored when read")]
    public void FromWire_DeprecatedCurrentTs_IsIgnored()
    {
        var wire = new Wire.Stats { RegionCount = 2 };
#pragma warning disable CS0612 // the field is deprecated on purpose
        wire.CurrentTs = 12345;
#pragma warning restore CS0612

        Assert.Equal(new Stats { RegionCount = 2 }, WireMapping.FromWire(wire));
    }

    [Fact(DisplayName = "A dispatch response's separate checkpoint is a copy of the status's and is ignored when read")]
    public void DispatchResponse_CheckpointCopy_IsWrittenAndIgnored()
    {
        var status = new TableStatus(new Span(1), TableState.Stopped, new Checkpoint(7, 8, 9));
        var wire = WireMapping.ToWire(new DispatchTableResponse { RemoveTable = new RemoveTableResponse(status) });

        Assert.Equal(wire.RemoveTable.Status.Checkpoint, wire.RemoveTable.Checkpoint);
        wire.RemoveTable.Checkpoint = new Wire.Checkpoint { CheckpointTs = 1 };
        Assert.Equal(status, WireMapping.FromWire(wire).RemoveTable!.Status);
    }

    [Fact(DisplayName = "Every core enum value maps to the wire value with the same number and name, and back")]
    public void Enums_EveryCoreValue_MapsAndBack()
    {
        foreach (var state in Enum.GetValues<TableState>())
        {
            Assert.Equal((int)state, (int)WireMapping.ToWire(state));
            Assert.Equal(state.ToString(), WireMapping.ToWire(state).ToString());
            Assert.Equal(state, WireMapping.FromWire(WireMapping.ToWire(state)));
        }

        foreach (var liveness in Enum.GetValues<Liveness>())
        {
            Assert.Equal((int)liveness, (int)WireMapping.ToWire(liveness));
            Assert.Equal(liveness.ToString(), WireMapping.ToWire(liveness).ToString());
            Assert.Equal(liveness, WireMapping.FromWire(WireMapping.ToWire(liveness)));
        }

        foreach (var type in Enum.GetValues<MessageType>())
        {
            Assert.Equal((int)type, (int)WireMapping.ToWire(type));
            Assert.Equal(type.ToString(), WireMapping.ToWire(type).ToString());
            Assert.Equal(type, WireMapping.FromWire(WireMapping.ToWire(type)));
        }
    }

    [Fact(DisplayName = "Every wire enum value maps to a core value and back (the two enums are the same set)")]
    public void Enums_EveryWireValue_MapsAndBack()
    {
        Assert.Equal(Enum.GetValues<TableState>().Length, Enum.GetValues<Wire.TableState>().Length);
        Assert.Equal(Enum.GetValues<Liveness>().Length, Enum.GetValues<Wire.Liveness>().Length);
        Assert.Equal(Enum.GetValues<MessageType>().Length, Enum.GetValues<Wire.MessageType>().Length);
        foreach (var state in Enum.GetValues<Wire.TableState>())
        {
            Assert.Equal(state, WireMapping.ToWire(WireMapping.FromWire(state)));
        }

        foreach (var liveness in Enum.GetValues<Wire.Liveness>())
        {
            Assert.Equal(liveness, WireMapping.ToWire(WireMapping.FromWire(liveness)));
        }

        foreach (var type in Enum.GetValues<Wire.MessageType>())
        {
            Assert.Equal(type, WireMapping.ToWire(WireMapping.FromWire(type)));
        }
    }

    [Fact(DisplayName = "Undefined enum values are refused in both directions")]
    public void Enums_UndefinedValues_Throw()
    {
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire((TableState)7));
        Assert.Throws<WireFormatException>(() => WireMapping.FromWire((Wire.TableState)(-1)));
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire((Liveness)2));
        Assert.Throws<WireFormatException>(() => WireMapping.FromWire((Wire.Liveness)2));
        Assert.Throws<WireFormatException>(() => WireMapping.ToWire((MessageType)5));
        Assert.Throws<WireFormatException>(() => WireMapping.FromWire((Wire.MessageType)5));
    }

    [Fact(DisplayName = "The protos declare the TiCDC-independent packages")]
    public void Protos_Packages_AreVersioned()
    {
        Assert.Equal("capstan.schedule.v1", Wire.ScheduleReflection.Descriptor.Package);
        Assert.Equal("capstan.transport.v1", Capstan.Protocol.Transport.TransportReflection.Descriptor.Package);
        Assert.Equal(FieldType.Message, Wire.Stats.Descriptor.FindFieldByName("stage_checkpoints").FieldType);
        Assert.True(Wire.Stats.Descriptor.FindFieldByName("stage_checkpoints").IsMap);
    }
}
