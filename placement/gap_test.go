package placement
import ("testing";"math/rand/v2")
func TestGap(t *testing.T){
 for _, sz := range [][4]int{{1,5,0,8},{6,6,8,12}} {
 r := rand.New(rand.NewPCG(7, 9)); worse, total, extra := 0,0,0
 for range 3000 { in := randomInput(r,sz[0],sz[1],sz[2],sz[3]); d,_ := Place(in); if d.Unschedulable {continue}
  rcs := refClusters(in); best := -1
  refCompositions(len(rcs), in.Request.Replicas, func(n []int){ if !refValid(rcs,in.Request,n){return}; if m:=refMinMoves(rcs,n); best<0||m<best {best=m} })
  total++; if len(d.Moves) > best { worse++; extra += len(d.Moves)-best; if worse < 4 { t.Logf("mine %d best %d: cur %+v assign %+v", len(d.Moves), best, in.Current, d.Assignment) } } }
 t.Logf("schedulable %d, more moves than global min in %d (extra %d)", total, worse, extra)
 }
}
