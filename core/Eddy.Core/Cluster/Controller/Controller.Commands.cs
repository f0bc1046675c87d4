using System.Buffers.Binary;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>Metadata changes: proposed on the leader, forwarded to it from any other node, and answered once applied here.</summary>
public sealed partial class Controller
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);

    // Waiting for an index to be applied on this node; a proposal of this node's also for its term there.
    private readonly List<Waiter> _waiters = new();

    private sealed class Waiter(long index, long term)
    {
        public long Index { get; } = index;
        /// <summary>The term the entry was proposed in, or 0 when any entry at the index will do.</summary>
        public long Term { get; } = term;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Makes <paramref name="command"/> part of the cluster's metadata: proposes it on the leader (forwarding it there
    /// from another node, retrying while leadership moves) and completes, with its log index, once this node has applied
    /// it. Throws <see cref="ControllerUnavailableException"/> when no leader took it within the command timeout.
    /// Shard 0. A retry after an unknown outcome may apply a command twice; commands are written so that twice is once.
    /// </summary>
    public async ValueTask<long> ExecuteAsync(ControllerCommand command)
    {
        var shard = Runtime.Shard.Current!;
        if (shard.Id != Shard)
        {
            throw new InvalidOperationException($"controller commands run on shard {Shard}, not {shard.Id}");
        }
        byte[] data = command.Encode();
        long deadline = shard.Clock.NowNanos + _options.CommandTimeout.Ticks * 100;
        string why = "no controller leader";
        while (shard.Clock.NowNanos < deadline && !_stopped)
        {
            var remaining = TimeSpan.FromTicks((deadline - shard.Clock.NowNanos) / 100);
            try
            {
                long index;
                if (_raft.Role == Role.Leader)
                {
                    index = await ProposeAsync(data, remaining);
                }
                else if (_leaderId is int leader and not 0)
                {
                    var reply = await _links.CallAsync(leader, RpcMethod.ControllerCommand, data, remaining);
                    if (!reply.Ok || reply.Body.Length != 8)
                    {
                        why = $"node {leader} did not take it: {reply.Error}";
                        await shard.Delay(RetryPause);
                        continue;
                    }
                    index = BinaryPrimitives.ReadInt64BigEndian(reply.Body);
                    await WaitAppliedAsync(index, term: 0, remaining);
                }
                else
                {
                    await shard.Delay(RetryPause);
                    continue;
                }
                return index;
            }
            catch (Exception e) when (e is RpcUnavailableException or ControllerUnavailableException)
            {
                why = e.Message;
                await shard.Delay(RetryPause);
            }
        }
        throw new ControllerUnavailableException($"the controller did not take the change within {_options.CommandTimeout.TotalSeconds:0.###} s ({why})");
    }

    /// <summary>A call from another node: controller commands are proposed here when this node leads.</summary>
    public ValueTask<RpcReply> OnRequestAsync(int from, RpcMethod method, byte[] body)
    {
        if (method == RpcMethod.Join)
        {
            return Smp.SubmitTo(Shard, async () =>
            {
                try
                {
                    return await JoinOnControllerAsync(body);
                }
                catch (RpcFormatException e)
                {
                    return RpcReply.Failure($"a malformed join: {e.Message}");
                }
            });
        }
        if (method == RpcMethod.ConfigStatus && from != 0)
        {
            return new(RpcReply.Success(EncodeConfigStatus(ConfigStatus)));
        }
        if (method == RpcMethod.NodeVersion && from != 0)
        {
            return new(RpcReply.Success(EncodeVersion()));
        }
        if (method == RpcMethod.MemberSilence && from != 0)
        {
            return Smp.SubmitTo(Shard, () => _raft.Role == Role.Leader
                ? RpcReply.Success(EncodeSilence(SilenceHere()))
                : RpcReply.Failure(_leaderId == 0 ? "no controller leader" : $"node {_leaderId} leads the controller"));
        }
        if (method != RpcMethod.ControllerCommand || from == 0)
        {
            return new(RpcReply.Failure($"method {(short)method} is not served to node {from}"));
        }
        return Smp.SubmitTo(Shard, async () =>
        {
            if (_raft.Role != Role.Leader)
            {
                return RpcReply.Failure(_leaderId == 0 ? "no controller leader" : $"node {_leaderId} leads the controller");
            }
            try
            {
                ControllerCommand.Decode(body); // refuse what this version cannot apply before it is in everyone's log
                long index = await ProposeAsync(body, _options.CommandTimeout);
                var answer = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(answer, index);
                return RpcReply.Success(answer);
            }
            catch (Exception e) when (e is ControllerUnavailableException or RpcFormatException)
            {
                return RpcReply.Failure(e.Message);
            }
        });
    }

    /// <summary>Appends <paramref name="data"/> to the leader's log; completes with its index once applied here in the
    /// term it was proposed in (a new leader may have replaced it: then it throws, and the caller retries).</summary>
    private async ValueTask<long> ProposeAsync(byte[] data, TimeSpan timeout)
    {
        if (_failed)
        {
            throw new ControllerUnavailableException("the controller failed on this node");
        }
        var result = _raft.Propose(data);
        if (result != ProposeResult.Accepted)
        {
            throw new ControllerUnavailableException($"the controller leader refused the change ({result})");
        }
        long index = _raft.LastIndex;
        long term = _raft.Term;
        Pump();
        await WaitAppliedAsync(index, term, timeout);
        return index;
    }

    private async ValueTask WaitAppliedAsync(long index, long term, TimeSpan timeout)
    {
        if (_applied >= index && term == 0)
        {
            return;
        }
        var waiter = new Waiter(index, term);
        _waiters.Add(waiter);
        var shard = Runtime.Shard.Current!;
        var expiry = shard.Schedule(shard.Clock.NowNanos + timeout.Ticks * 100, static state =>
        {
            var (self, w) = ((Controller, Waiter))state!;
            self._waiters.Remove(w);
            w.Done.TrySetException(new ControllerUnavailableException($"entry {w.Index} was not applied here in time"));
        }, (this, waiter));
        try
        {
            await waiter.Done.Task;
        }
        finally
        {
            expiry.Cancel();
        }
    }

    /// <summary>Entries through <paramref name="index"/> are applied; <paramref name="term"/> is the term of the entry at
    /// that index (0 for a snapshot, which tells no term per entry).</summary>
    private void CompleteWaiters(long index, long term)
    {
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            if (waiter.Index > index)
            {
                continue;
            }
            _waiters.RemoveAt(i);
            // Entries are applied one by one, so an own proposal meets its index here, unless a snapshot skipped it.
            if (waiter.Term == 0 || (waiter.Index == index && waiter.Term == term))
            {
                waiter.Done.TrySetResult();
            }
            else
            {
                waiter.Done.TrySetException(new ControllerUnavailableException(term == 0
                    ? $"a snapshot replaced entry {waiter.Index}; whether it was applied is unknown"
                    : $"entry {waiter.Index} of term {waiter.Term} was replaced by another leader's"));
            }
        }
    }

    private void FailWaiters(Exception reason)
    {
        foreach (var waiter in _waiters)
        {
            waiter.Done.TrySetException(reason);
        }
        _waiters.Clear();
    }

    /// <summary>Records this node in the cluster's brokers (or updates it), retrying until the controller takes it.
    /// Called from outside the shards once the Kafka listener is up.</summary>
    public Task RegisterAsync(string kafkaHost, int kafkaPort, int leaderEpoch) => _shards.InvokeAsync(Shard, async () =>
    {
        var me = new BrokerInfo(NodeId, kafkaHost, kafkaPort, AdvertisedRpcHost, AdvertisedRpcPort, _options.Rack, _shards.Count, leaderEpoch);
        while (!_stopped && _view.Broker(NodeId) != me)
        {
            try
            {
                await ExecuteAsync(ControllerCommand.RegisterBroker(me));
            }
            catch (ControllerUnavailableException e)
            {
                Log.Warn(Subsystem, $"registering this node with the controller: {e.Message}; trying again");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(Subsystem, $"this node cannot register with the controller: {e.Message}");
                return;
            }
        }
    });
}
