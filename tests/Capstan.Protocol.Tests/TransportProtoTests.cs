namespace Capstan.Protocol.Tests;

using Capstan.Protocol.Transport;
using CsCheck;
using Google.Protobuf;
using Core = Capstan.Core.Protocol;

public class TransportProtoTests
{
    [Fact(DisplayName = "A frame of scheduler messages survives bytes and maps back to the same core messages")]
    public void Frame_WithMessages_RoundTrips()
    {
        Property.ForAll(Generators.Messages.Array[0, 8], messages =>
        {
            var frame = new Frame { FromCapture = "c1", Changefeed = "default/cf", Role = Role.Scheduler, Sequence = 17 };
            foreach (var message in messages)
            {
                frame.Messages.Add(WireMapping.ToWire(message));
            }

            var back = Frame.Parser.ParseFrom(frame.ToByteArray());

            Assert.Equal(frame, back);
            var decoded = new Core.Message[back.Messages.Count];
            for (int index = 0; index < decoded.Length; index++)
            {
                decoded[index] = WireMapping.FromWire(back.Messages[index]);
            }

            Assert.Equal(messages, decoded);
        }, seed: 12, iterations: 200);
    }

    [Fact(DisplayName = "Roles: AGENT = 1 (coordinator → agent), SCHEDULER = 2 (agent → coordinator)")]
    public void Role_Numbers_AreFixed()
    {
        Assert.Equal(0, (int)Role.Unspecified);
        Assert.Equal(1, (int)Role.Agent);
        Assert.Equal(2, (int)Role.Scheduler);
    }

    [Fact(DisplayName = "CaptureTransport.Exchange is a bidirectional stream of frames and acks")]
    public void Service_Exchange_IsBidirectionalStreaming()
    {
        var method = CaptureTransport.Descriptor.FindMethodByName("Exchange");

        Assert.True(method.IsClientStreaming);
        Assert.True(method.IsServerStreaming);
        Assert.Equal(Frame.Descriptor, method.InputType);
        Assert.Equal(Ack.Descriptor, method.OutputType);
        Assert.Equal("capstan.transport.v1.CaptureTransport", CaptureTransport.Descriptor.FullName);
    }

    [Fact]
    public void Ack_Fields_RoundTrip()
    {
        var ack = new Ack { Sequence = 17, Accepted = 3, Rejected = 1, Error = "1 message for unknown changefeed default/x" };

        Assert.Equal(ack, Ack.Parser.ParseFrom(ack.ToByteArray()));
    }
}
