package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Labels every fake node of a member carries.
const (
	LabelRegion = "topology.kubernetes.io/region"
	LabelZone   = "topology.kubernetes.io/zone"
	// StorageClassName is the default StorageClass of every member.
	StorageClassName = "standard"
)

// seedMember creates a member's fake nodes, default StorageClass and
// hostPath volumes, then waits for the nodes to be Ready. The hub gets
// nothing.
func (b *Bed) seedMember(ctx context.Context, c *Cluster) error {
	if c.Hub {
		return nil
	}
	if err := makeVolumes(b.VolumeDir(c.Name), b.volumesPerMember); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	cs, err := clientset(c)
	if err != nil {
		return err
	}
	for i := range b.nodesPerMember {
		name := fmt.Sprintf("%s-node-%d", c.Name, i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				// kwok manages only nodes with this annotation.
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok", LabelRegion: c.Region, LabelZone: c.Zone,
				},
			},
			Status: corev1.NodeStatus{
				Allocatable: nodeResources(), Capacity: nodeResources(),
			},
		}
		if err := create(ctx, func(ctx context.Context) error {
			_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("%s: create node %s: %w", c.Name, name, err)
		}
	}
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: ptr(storagev1.VolumeBindingImmediate),
	}
	if err := create(ctx, func(ctx context.Context) error {
		_, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("%s: create StorageClass: %w", c.Name, err)
	}
	for i := range b.volumesPerMember {
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-pv-%d", c.Name, i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: StorageClassName,
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(b.VolumeDir(c.Name), itoa(i))},
				},
			},
		}
		if err := create(ctx, func(ctx context.Context) error {
			_, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("%s: create PersistentVolume %s: %w", c.Name, pv.Name, err)
		}
	}
	return b.waitNodesReady(ctx, c)
}

// waitNodesReady waits until every node of a member reports Ready (kwok
// runs and heartbeats them).
func (b *Bed) waitNodesReady(ctx context.Context, c *Cluster) error {
	if c.Hub {
		return nil
	}
	cs, err := clientset(c)
	if err != nil {
		return err
	}
	return poll(ctx, b.readyTimeout, c.Name+" nodes", func() (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			return false, nil
		}
		for _, n := range nodes.Items {
			if !nodeReady(n) {
				return false, nil
			}
		}
		return true, nil
	})
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// create runs a create call with a deadline, accepting AlreadyExists.
func create(ctx context.Context, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := call(ctx); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func clientset(c *Cluster) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig of %s: %w", c.Name, err)
	}
	return kubernetes.NewForConfig(cfg)
}

// nodeResources is what every fake node offers: plenty, since kwok pods use
// nothing.
func nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

func ptr[T any](v T) *T { return &v }
