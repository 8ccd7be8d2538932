namespace Capstan.Core.Agent;

using Capstan.Core.Model;

/// <summary>
/// Who an agent is: one changefeed's agent on one capture, in one incarnation. Stamped on every
/// message the agent sends.
/// </summary>
/// <param name="Capture">The capture the agent runs on.</param>
/// <param name="Changefeed">The changefeed.</param>
/// <param name="Epoch">
/// The processor epoch of this agent incarnation, chosen by the host (fresh for every incarnation).
/// It never changes during the agent's life, not even when a new owner appears: it names the
/// incarnation, not the owner term; a new owner's coordinator learns it from the agent's first
/// heartbeat response; and a changed epoch must keep meaning "this capture restarted and lost its
/// spans", which an agent keeping its spans across an owner change is not.
/// </param>
/// <param name="ChangefeedEpoch">The changefeed incarnation the agent was created for; messages of another one are dropped.</param>
/// <param name="Version">The agent's own release version.</param>
public readonly record struct AgentIdentity(
    CaptureId Capture, ChangefeedId Changefeed, ProcessorEpoch Epoch, ChangefeedEpoch ChangefeedEpoch, string Version);

/// <summary>
/// The owner an agent answers to. The default value means "no known owner" (revision 0): the
/// agent then adopts the first owner that contacts it.
/// </summary>
/// <param name="Capture">The owner's capture.</param>
/// <param name="Revision">The owner's term; a higher revision is a newer owner.</param>
/// <param name="Version">The owner's release version (informational: Capstan gates nothing on it).</param>
public readonly record struct OwnerInfo(CaptureId Capture, OwnerRevision Revision, string Version)
{
    /// <summary>True when no owner is known yet.</summary>
    public bool IsUnknown => Revision.Value == 0 && Capture.IsNone;
}
